"""JSON and text log lines: the fields a log pipeline indexes, and secrets masked in both."""

from __future__ import annotations

import json
import logging

import pytest
from arkive_core.tokens import new_token
from opentelemetry.sdk.trace import TracerProvider

from arkive_common import context, logs


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("arkive.test", logging.WARNING, __file__, 1, msg, args, info)


def test_json_lines_carry_service_level_trace_and_call(monkeypatch):
    tracer = TracerProvider().get_tracer("test")  # a recording span without touching the global provider
    fmt = logs.JsonFormatter("ingest")
    token = context.CURRENT.set(context.CallContext(principal="alice", correlation_id="corr-1"))
    try:
        with tracer.start_as_current_span("work") as span:
            line = json.loads(fmt.format(_record("stored %d files", 3)))
    finally:
        context.CURRENT.reset(token)
    ctx = span.get_span_context()
    assert line["service"] == "ingest" and line["level"] == "warning" and line["logger"] == "arkive.test"
    assert line["event"] == "stored 3 files"
    assert line["trace_id"] == format(ctx.trace_id, "032x") and line["span_id"] == format(ctx.span_id, "016x")
    assert line["correlation_id"] == "corr-1" and line["principal"] == "alice"
    assert "T" in line["ts"]
    outside = json.loads(fmt.format(_record("idle")))
    assert "trace_id" not in outside and "principal" not in outside  # no empty fields


@pytest.mark.parametrize("formatter", [logs.JsonFormatter, logs.TextFormatter])
def test_secrets_never_reach_a_log_line(monkeypatch, formatter):
    monkeypatch.setenv("ARKIVE_S3_SECRET_KEY", "s3-secret-value-123")
    monkeypatch.setenv("ARKIVE_DATABASE_URL", "postgresql://arkive:db-password-456@db:5432/arkive")
    tok = new_token()
    fmt = formatter("gateway")
    try:
        raise RuntimeError(f"cannot use {tok} against s3-secret-value-123")
    except RuntimeError as exc:
        text = fmt.format(_record("token %s, url %s", str(tok), "postgresql://arkive:db-password-456@db", exc=exc))
    assert tok.secret not in text
    assert "s3-secret-value-123" not in text and "db-password-456" not in text
    assert f"ark_{tok.token_id}_***" in text  # the id stays: it names the token without granting anything


def test_the_internal_plane_passwords_are_masked_from_their_files(monkeypatch, tmp_path):
    (tmp_path / "nats").write_text("nats-password-789\n")
    (tmp_path / "pg").write_text("pg-password-012\n")
    monkeypatch.setenv("ARKIVE_NATS_PASSWORD_FILE", str(tmp_path / "nats"))
    monkeypatch.setenv("ARKIVE_DATABASE_PASSWORD_FILE", str(tmp_path / "pg"))
    monkeypatch.delenv("ARKIVE_NATS_PASSWORD", raising=False)
    monkeypatch.delenv("ARKIVE_DATABASE_PASSWORD", raising=False)
    text = logs.TextFormatter("ingest").format(_record("got %s and %s", "nats-password-789", "pg-password-012"))
    assert "nats-password-789" not in text and "pg-password-012" not in text and text.count("***") == 2


def test_the_format_setting_is_checked(monkeypatch):
    monkeypatch.setenv("ARKIVE_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="json or text"):
        logs.configure("gateway")
