"""The health server on its own: readiness follows the check, failures and draining say 503."""

from __future__ import annotations

import pytest
from httpget import http_get

from arkive_common.health_http import HealthConfig, HealthServer


async def test_readiness_follows_the_check_and_draining_wins():
    state = {"ready": False}

    async def check() -> bool:
        if state["ready"] is None:
            raise ConnectionError("PostgreSQL is away")
        return bool(state["ready"])

    server = HealthServer("unit", check, port=0)
    port = await server.start()
    try:
        assert await http_get(port, "/livez") == (200, "ok\n")
        assert await http_get(port, "/readyz") == (503, "not ready\n")
        state["ready"] = True
        assert await http_get(port, "/readyz?verbose=1") == (200, "ready\n")
        state["ready"] = None  # a raising check is "not ready", never a 500
        assert await http_get(port, "/readyz") == (503, "not ready\n")
        state["ready"] = True
        server.draining = True
        assert await http_get(port, "/readyz") == (503, "draining\n")
        assert await http_get(port, "/livez", method="HEAD") == (200, "")
        status, text = await http_get(port, "/metrics")
        assert status == 200 and 'arkive_service_ready{service="unit"} 0.0' in text
    finally:
        await server.stop()


def test_config_from_env(monkeypatch):
    for name in ("ARKIVE_HEALTH_PORT", "ARKIVE_HEALTH_HOST", "ARKIVE_DRAIN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert HealthConfig.from_env() == HealthConfig(port=None, host="127.0.0.1", drain_seconds=0.0)
    monkeypatch.setenv("ARKIVE_HEALTH_PORT", "8081")
    monkeypatch.setenv("ARKIVE_HEALTH_HOST", "0.0.0.0")
    monkeypatch.setenv("ARKIVE_DRAIN_SECONDS", "2.5")
    assert HealthConfig.from_env() == HealthConfig(port=8081, host="0.0.0.0", drain_seconds=2.5)
    monkeypatch.setenv("ARKIVE_HEALTH_PORT", "eighty")
    with pytest.raises(ValueError, match="ARKIVE_HEALTH_PORT"):
        HealthConfig.from_env()
    monkeypatch.setenv("ARKIVE_HEALTH_PORT", "70000")
    with pytest.raises(ValueError, match="0-65535"):
        HealthConfig.from_env()
