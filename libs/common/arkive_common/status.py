"""Every process's status over the bus, for `arkive status` (AdminService.GetStatus).

A status request is published on `<prefix>.status` without a queue group, so every process of the
deployment (each replica of each service, and each gateway) answers it, from what it knows already:
its readiness check, start time, and the lag gauges its samplers keep (metrics.py). The gateway
collects answers for a short while; a process that does not answer in time is simply not listed
(as it would be missing from a load balancer). The web dashboard is not on the bus and not listed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from importlib import metadata

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from prometheus_client import Gauge

from .metrics import CONSUMER_ACK_PENDING, CONSUMER_PENDING, DEAD_LETTERS, OUTBOX_OLDEST_AGE, OUTBOX_PENDING

log = logging.getLogger(__name__)
STARTED = time.time()


class ConsumerStatus(msgspec.Struct, frozen=True):
    consumer: str
    pending: int = 0
    ack_pending: int = 0
    dead_letters: int = 0


class ProcessStatus(msgspec.Struct, frozen=True):
    service: str
    instance: str
    version: str
    ready: bool
    uptime_seconds: float
    outbox_pending: int = 0
    outbox_oldest_age_seconds: float = 0.0
    consumers: list[ConsumerStatus] = []


_decoder = msgspec.msgpack.Decoder(ProcessStatus)


def status_subject(prefix: str) -> str:
    return f"{prefix}.status"


def version() -> str:
    try:
        return metadata.version("arkive-common")
    except metadata.PackageNotFoundError:  # a source checkout without the package installed
        return "unknown"


def _values(gauge: Gauge) -> dict[str, float]:
    """A gauge with one label: its current value per label value."""
    return {s.labels[next(iter(s.labels))]: s.value for m in gauge.collect() for s in m.samples if s.labels}


def _value(gauge: Gauge) -> float:
    return next((s.value for m in gauge.collect() for s in m.samples), 0.0)


def snapshot(service: str, ready: bool, consumers: list[str]) -> ProcessStatus:
    pending, acks, dead = _values(CONSUMER_PENDING), _values(CONSUMER_ACK_PENDING), _values(DEAD_LETTERS)
    return ProcessStatus(
        service=service,
        instance=f"{socket.gethostname()}:{os.getpid()}",
        version=version(),
        ready=ready,
        uptime_seconds=time.time() - STARTED,
        outbox_pending=int(_value(OUTBOX_PENDING)),
        outbox_oldest_age_seconds=_value(OUTBOX_OLDEST_AGE),
        consumers=[
            ConsumerStatus(c, int(pending.get(c, 0)), int(acks.get(c, 0)), int(dead.get(c, 0))) for c in consumers
        ],
    )


class StatusResponder:
    """Answers status requests for one process until closed."""

    def __init__(
        self, nc: NATS, prefix: str, service: str, ready: Callable[[], Awaitable[bool]], consumers: list[str]
    ) -> None:
        self._nc, self._prefix, self._service = nc, prefix, service
        self._ready, self._consumers = ready, consumers
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(status_subject(self._prefix), cb=self._answer)

    async def _answer(self, msg: Msg) -> None:
        try:
            ready = bool(await asyncio.wait_for(self._ready(), 2))
        except Exception:  # a failing readiness check is an answer too: not ready
            ready = False
        if msg.reply:
            status = snapshot(self._service, ready, self._consumers)
            try:
                await msg.respond(msgspec.msgpack.encode(status))
            except Exception as exc:  # the asker is gone
                log.debug("status reply failed: %s", exc)

    async def close(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            try:
                await sub.unsubscribe()
            except Exception:
                pass


async def gather(nc: NATS, prefix: str, wait: float) -> list[ProcessStatus]:
    """Asks every process and collects the answers that arrive within `wait` seconds."""
    inbox = nc.new_inbox()
    answers: list[ProcessStatus] = []

    async def collect(msg: Msg) -> None:
        try:
            answers.append(_decoder.decode(msg.data))
        except msgspec.DecodeError as exc:  # a process of another version: skipped, not fatal
            log.warning("undecodable status answer: %s", exc)

    sub = await nc.subscribe(inbox, cb=collect)
    try:
        await nc.publish(status_subject(prefix), b"", reply=inbox)
        await asyncio.sleep(wait)
    finally:
        await sub.unsubscribe()
    return sorted(answers, key=lambda a: (a.service, a.instance))
