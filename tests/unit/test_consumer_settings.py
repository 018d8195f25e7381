"""Delivery bounds of the bus consumers and their settings from the environment."""

from __future__ import annotations

import pytest

from arkive_common.config import Settings
from arkive_common.consumer import DeliveryPolicy


def test_backoff_grows_and_its_last_value_repeats():
    policy = DeliveryPolicy(max_failures=5, backoff=(1.0, 5.0, 15.0))
    assert [policy.delay(n) for n in (0, 1, 2, 3, 4, 10)] == [1.0, 1.0, 5.0, 15.0, 15.0, 15.0]


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("ARKIVE_STREAM_REPLICAS", "3")
    monkeypatch.setenv("ARKIVE_CONSUMER_MAX_FAILURES", "2")
    monkeypatch.setenv("ARKIVE_CONSUMER_BACKOFF", "0.5, 2")
    monkeypatch.setenv("ARKIVE_CONSUMER_WAIT_LIMIT", "30")
    monkeypatch.setenv("ARKIVE_RECONCILE_INTERVAL", "0")
    s = Settings.from_env()
    assert (s.stream_replicas, s.consumer_max_failures, s.consumer_backoff) == (3, 2, (0.5, 2.0))
    assert (s.consumer_wait_limit, s.reconcile_interval, s.reconcile_margin) == (30.0, 0.0, 30.0)
    assert DeliveryPolicy.from_settings(s) == DeliveryPolicy(2, (0.5, 2.0), 30.0)


@pytest.mark.parametrize("value", ["fast", "1,-2", ","])
def test_bad_backoff_is_refused(monkeypatch, value):
    monkeypatch.setenv("ARKIVE_CONSUMER_BACKOFF", value)
    with pytest.raises(ValueError, match="ARKIVE_CONSUMER_BACKOFF"):
        Settings.from_env()
