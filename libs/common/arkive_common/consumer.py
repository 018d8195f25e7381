"""Durable JetStream pull consumers with exactly-once effects.

Each message is handled in one Postgres transaction that first records (consumer, event id) in
`processed_events` and then applies the handler's effects; a redelivered event finds its record
and is acked without effect. Replicas of a service share one durable consumer and compete for
messages. Handlers must therefore not rely on global order across streams; where order matters
they compare stream versions (see the projections).

Failures are bounded. A handler that needs an earlier event it has not seen yet raises `NotYet`:
the message comes back after a growing delay without counting as a failure, for at most the wait
limit (from its first wait). Any other error (an undecodable message included) counts; after `max_failures` the message
is parked in `dead_letters` with its raw bytes and error, acked, and logged in one line, and the
events behind it keep flowing. JetStream's own max_deliver stays unlimited: a message it dropped
would vanish without a trace, while the count kept here survives restarts and replicas.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind

from . import deadletters, tracing
from .config import Settings
from .events import Envelope, decode_envelope
from .metrics import CONSUMER_ACK_PENDING, CONSUMER_EVENTS, CONSUMER_PENDING, sample_interval

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]


async def record_processed(conn: asyncpg.Connection, consumer: str, event_id: str) -> bool:
    """Records the event as processed by `consumer`; False if it already was."""
    row = await conn.fetchval(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
        consumer,
        event_id,
    )
    return row is not None


class NotYet(Exception):
    """The event depends on an earlier event that this consumer has not applied yet (another replica
    holds it, or it was redelivered out of order): try again later, it is not a failure."""


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_failures: int = 5
    backoff: tuple[float, ...] = (1.0, 5.0, 15.0, 30.0)
    wait_limit: float = 600.0

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryPolicy:
        return cls(max(1, s.consumer_max_failures), s.consumer_backoff, s.consumer_wait_limit)

    def delay(self, attempt: int) -> float:
        """Seconds before redelivery number `attempt` (1-based); the last value repeats."""
        return self.backoff[min(max(attempt, 1), len(self.backoff)) - 1]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class EventConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        pool: asyncpg.Pool,
        *,
        stream: str,
        durable: str,
        filter_subject: str,
        handler: Handler,
        batch: int = 64,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self._js = js
        self._pool = pool
        self._stream = stream
        self._durable = durable
        self._filter = filter_subject
        self._handler = handler
        self._batch = batch
        self._stopping = False
        self.policy = policy or DeliveryPolicy()
        self.parked = 0  # dead letters this process parked (the table holds the cluster's)
        self._sample_every = sample_interval()
        self._next_sample = 0.0

    @property
    def name(self) -> str:
        return self._durable

    @property
    def filter_subject(self) -> str:
        return self._filter

    async def handle(self, env: Envelope) -> bool:
        """Applies one event exactly once; returns False if it had been processed before."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await record_processed(conn, self._durable, env.id):
                return False
            await self._handler(conn, env)
            return True

    async def run(self) -> None:
        while not self._stopping:
            try:
                sub = await self._js.pull_subscribe(
                    self._filter,
                    durable=self._durable,
                    stream=self._stream,
                    config=ConsumerConfig(
                        ack_policy=AckPolicy.EXPLICIT,
                        deliver_policy=DeliverPolicy.ALL,
                        ack_wait=10,
                        max_deliver=-1,  # bounded by deliver() (see the module doc)
                        max_ack_pending=1000,
                    ),
                )
                await self._pull(sub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # nats.py can stop delivering to a pull subscription after a server restart
                # (nats.py #504): drop it and subscribe again.
                if not self._stopping:
                    log.warning("consumer %s: %s; re-subscribing", self._durable, exc)
                    await asyncio.sleep(1.0)

    async def _pull(self, sub) -> None:
        try:
            while not self._stopping:
                if time.monotonic() >= self._next_sample:
                    await self._sample_lag(sub)
                try:
                    msgs = await sub.fetch(self._batch, timeout=1.0)
                except NatsTimeout:
                    continue
                for msg in msgs:
                    await self.deliver(msg)
        finally:
            try:
                await sub.unsubscribe()
            except Exception:
                pass

    async def _sample_lag(self, sub) -> None:
        """The consumer's lag for /metrics (JetStream's view, shared by every replica of the consumer)."""
        self._next_sample = time.monotonic() + self._sample_every
        try:
            info = await sub.consumer_info()
        except Exception as exc:  # the gauge keeps its last value; the pull loop decides about errors
            log.debug("consumer %s: no consumer info: %s", self._durable, exc)
            return
        CONSUMER_PENDING.labels(self._durable).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(self._durable).set(info.num_ack_pending or 0)

    async def deliver(self, msg) -> None:
        """Handles one bus message in a span that continues the trace of the append (the traceparent
        the outbox relay put in its headers)."""
        with tracing.span(f"consume {self._durable}", msg.headers, kind=SpanKind.CONSUMER) as span:
            span.set_attribute("messaging.destination.name", msg.subject)
            await self._deliver(msg)

    async def _deliver(self, msg) -> None:
        """Handles one bus message: ack on success, else redeliver later or park it (module doc)."""
        env: Envelope | None = None
        try:
            env = decode_envelope(msg.data)
            applied = await self.handle(env)
        except Exception as exc:
            await self._failed(msg, env, exc)
            return
        CONSUMER_EVENTS.labels(self._durable, "processed" if applied else "duplicate").inc()
        if msg.metadata.num_delivered > 1:
            await deadletters.forget_failures(self._pool, self._durable, msg.metadata.sequence.stream)
        await msg.ack()

    async def _failed(self, msg, env: Envelope | None, exc: Exception) -> None:
        meta = msg.metadata
        seq = meta.sequence.stream
        log.debug("consumer %s: stream seq %d failed", self._durable, seq, exc_info=exc)
        if isinstance(exc, NotYet):
            waited = await deadletters.note_waiting(self._pool, self._durable, seq)
            if waited < self.policy.wait_limit:
                CONSUMER_EVENTS.labels(self._durable, "waiting").inc()
                await msg.nak(delay=self.policy.delay(meta.num_delivered))
                return
            error = f"waited {waited:.0f}s for an earlier event: {exc}"
        else:
            failures = await deadletters.count_failure(self._pool, self._durable, seq)
            if failures < self.policy.max_failures:
                if failures == 1:  # one line per failing message, not one per attempt
                    log.warning(
                        "consumer %s: stream seq %d (%s) failed, retrying up to %d times: %s",
                        self._durable, seq, msg.subject, self.policy.max_failures - 1, describe(exc),
                    )  # fmt: skip
                CONSUMER_EVENTS.labels(self._durable, "retried").inc()
                await msg.nak(delay=self.policy.delay(failures))
                return
            error = describe(exc)
        failure = deadletters.Failure(self._durable, msg.subject, seq, msg.data, env.id if env else None, error)
        letter = await deadletters.park(self._pool, failure, meta.num_delivered)
        self.parked += 1
        CONSUMER_EVENTS.labels(self._durable, "parked").inc()
        log.error(
            "consumer %s: parked stream seq %d (%s, event %s) as dead letter %d after %d deliveries: %s",
            self._durable, seq, msg.subject, failure.event_id or "undecodable", letter, meta.num_delivered, error,
        )  # fmt: skip
        await msg.ack()

    async def shutdown(self) -> None:
        self._stopping = True
