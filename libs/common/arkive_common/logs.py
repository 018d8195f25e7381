"""Process logging: one line per record, JSON or text, with secrets masked.

ARKIVE_LOG_FORMAT=json (the image and the Helm chart) writes one JSON object per line with `ts`,
`level`, `service`, `logger`, `event` (the message), `trace_id`/`span_id` (the current span, see
tracing.py), `correlation_id` and `principal` (the call being served, see context.py) and `exc`
(a traceback). `text` (the default, `arkive up`) writes the same as a readable line.

The standard library's logging with a formatter of our own: no dependency, and every library's
records (asyncpg, nats, grpc) come out in the same format. Secrets never reach the output: both
formats mask API tokens (`ark_<id>_<secret>` keeps its id, the secret becomes `***`) and the values
of the secret settings (S3 secret key, API key, the NATS and database passwords, from their
variables, secret files or URLs) wherever they appear, exception texts included.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from . import context, tracing
from .plane_secrets import read_secret

_TOKEN = re.compile(r"\b(ark_[0-9a-f]{12}_)[0-9a-f]{64}\b")
_SECRET_SETTINGS = ("ARKIVE_S3_SECRET_KEY", "ARKIVE_API_KEY", "ARKIVE_REFERENCE_S3_SECRET_KEY", "NATS_PASSWORD")
MASK = "***"


def _secret_values() -> list[str]:
    values = [os.environ.get(name, "") for name in _SECRET_SETTINGS]
    for name in ("ARKIVE_NATS_PASSWORD", "ARKIVE_DATABASE_PASSWORD"):  # the variable or its _FILE
        with contextlib.suppress(ValueError):
            values.append(read_secret(name))
    for url in ("ARKIVE_DATABASE_URL", "ARKIVE_NATS_URL"):
        try:
            values.append(urlsplit(os.environ.get(url, "")).password or "")
        except ValueError:
            pass
    return sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)  # short values would mask words


def redact(text: str, secrets: list[str]) -> str:
    text = _TOKEN.sub(rf"\1{MASK}", text)
    for value in secrets:
        text = text.replace(value, MASK)
    return text


class _Redacting(logging.Formatter):
    def __init__(self, service: str, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.service = service
        self.secrets = _secret_values()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.render(record), self.secrets)

    def render(self, record: logging.LogRecord) -> str:
        return super().format(record)


class JsonFormatter(_Redacting):
    def render(self, record: logging.LogRecord) -> str:
        call = context.current()
        trace_id, span_id = tracing.ids()
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "event": record.getMessage(),
        }
        extras = {
            "trace_id": trace_id,
            "span_id": span_id,
            "correlation_id": call.correlation_id,
            "principal": call.principal,
        }
        line.update({k: v for k, v in extras.items() if v})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(_Redacting):
    def __init__(self, service: str) -> None:
        super().__init__(service, f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

    def render(self, record: logging.LogRecord) -> str:
        line = super().render(record)
        trace_id, _ = tracing.ids()
        return f"{line} [trace {trace_id}]" if trace_id and "\n" not in line else line


def log_format() -> str:
    fmt = os.environ.get("ARKIVE_LOG_FORMAT", "").strip().lower() or "text"
    if fmt not in ("json", "text"):
        raise ValueError(f"ARKIVE_LOG_FORMAT must be json or text, not {fmt!r}")
    return fmt


def configure(service: str, level: int = logging.INFO) -> None:
    """Sends every record of the process to stderr in the configured format (replaces handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if log_format() == "json" else TextFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
