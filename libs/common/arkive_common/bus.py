"""NATS plumbing: the JetStream stream that carries events, subjects, and connection set-up."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

log = logging.getLogger(__name__)


def event_subject(prefix: str, stream_id: str, type_name: str) -> str:
    """`<prefix>.events.<category>.<EventType>`; the category is the stream id before its first '-'."""
    category = stream_id.split("-", 1)[0]
    return f"{prefix}.events.{category}.{type_name}"


def events_wildcard(prefix: str) -> str:
    return f"{prefix}.events.>"


def rpc_subject(prefix: str, service: str, method: str) -> str:
    return f"{prefix}.rpc.{service}.{method}"


async def connect(url: str, name: str) -> NATS:
    """Connects with endless reconnects: a NATS restart must not kill a service."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=on_error,
        connect_timeout=5,
    )


async def ensure_stream(js: JetStreamContext, name: str, prefix: str) -> None:
    """Creates the event stream if missing (idempotent; N replicas may race here)."""
    config = StreamConfig(
        name=name,
        subjects=[events_wildcard(prefix)],
        storage=StorageType.FILE,
        duplicate_window=120.0,
    )
    try:
        info = await js.stream_info(name)
        if events_wildcard(prefix) not in (info.config.subjects or []):
            await js.update_stream(config)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError as exc:  # another replica created it first
            if "already in use" not in str(exc):
                raise
