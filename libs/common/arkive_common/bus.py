"""NATS plumbing: the JetStream stream that carries events, subjects, and connection set-up."""

from __future__ import annotations

import dataclasses
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


async def connect(url: str, name: str, *, user: str = "", password: str = "") -> NATS:
    """Connects with endless reconnects: a NATS restart must not kill a service. `user` and
    `password`, when given, override any user info in `url` (see Settings.nats_user)."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=on_error,
        connect_timeout=5,
        user=user or None,
        password=password or None,
    )


DUPLICATE_WINDOW = 120.0  # seconds: the outbox relay's re-publish after a crash must fall inside it


def stream_config(name: str, prefix: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[events_wildcard(prefix)],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
        num_replicas=replicas,
    )


def stream_differences(want: StreamConfig, have: StreamConfig) -> list[str]:
    """What of `want` the existing stream `have` lacks, as "setting: have (configured: want)"."""
    out: list[str] = []
    if (have.num_replicas or 1) != want.num_replicas:
        out.append(f"replicas {have.num_replicas or 1} (configured: {want.num_replicas})")
    if have.storage != want.storage:
        storage = getattr(have.storage, "value", have.storage)
        out.append(f"storage {storage} (configured: file)")
    if have.duplicate_window is not None and abs(have.duplicate_window - (want.duplicate_window or 0)) > 0.001:
        out.append(f"duplicate window {have.duplicate_window:g}s (configured: {want.duplicate_window:g}s)")
    missing = [s for s in want.subjects or [] if s not in (have.subjects or [])]
    if missing:
        out.append(f"subjects {have.subjects} lack {missing} (added)")
    return out


async def ensure_stream(js: JetStreamContext, name: str, prefix: str, replicas: int = 1) -> list[str]:
    """Creates the event stream if missing (idempotent; N replicas may race here). An existing
    stream is checked against the configuration and each difference logged in one WARNING line
    (and returned). Missing subjects are added (without them no event reaches the stream); changing
    replicas or storage of a live stream is left to the operator."""
    config = stream_config(name, prefix, replicas)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError as exc:  # another replica created it first
            if "already in use" not in str(exc):
                raise
        return []
    differences = stream_differences(config, info.config)
    if events_wildcard(prefix) not in (info.config.subjects or []):
        # The subjects are ours to fix: without them no event reaches the stream.
        subjects = [*(info.config.subjects or []), events_wildcard(prefix)]
        await js.update_stream(dataclasses.replace(info.config, subjects=subjects))
    if differences:
        log.warning("stream %s differs from the configuration: %s", name, "; ".join(differences))
    return differences
