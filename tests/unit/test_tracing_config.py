"""Traces cost nothing unless configured: no exporter without OTEL_EXPORTER_OTLP_ENDPOINT, no
traceparent added outside a span; with the variable set, the SDK exports over OTLP."""

from __future__ import annotations

import os
import subprocess
import sys

from arkive_common import tracing


def test_off_without_an_endpoint(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure("ingest") is False
    headers = {"Arkive-Principal": "alice"}
    assert tracing.inject_headers(headers) is headers  # nothing added, nothing copied
    assert tracing.inject_headers(None) is None
    assert tracing.current_traceparent() == ""
    assert tracing.ids() == ("", "")


PROBE = """
from opentelemetry import trace
from arkive_common import tracing
assert tracing.configure("ingest") is True
with tracing.span("probe"):
    parent = tracing.current_traceparent()
    assert parent.startswith("00-") and int(parent.rsplit("-", 1)[1], 16) & 1, parent  # sampled
    assert tracing.inject_headers({"a": "b"}) == {"a": "b", "traceparent": parent}
print(trace.get_tracer_provider().resource.attributes["service.name"])
"""


def test_on_with_an_endpoint_and_off_again_when_disabled():
    env = os.environ | {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "arkive-ingest", done.stderr
    off = env | {"OTEL_SDK_DISABLED": "true"}
    probe = "from arkive_common import tracing; assert tracing.configure('ingest') is False"
    done = subprocess.run([sys.executable, "-c", probe], env=off, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
