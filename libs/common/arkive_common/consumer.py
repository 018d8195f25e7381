"""Durable JetStream pull consumers with exactly-once effects.

Each message is handled in one Postgres transaction that first records (consumer, event id) in
`processed_events` and then applies the handler's effects; a redelivered event finds its record
and is acked without effect. Replicas of a service share one durable consumer and compete for
messages. Handlers must therefore not rely on global order across streams; where order matters
they compare stream versions (see the projections).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from .events import Envelope, decode_envelope

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
    ) -> None:
        self._js = js
        self._pool = pool
        self._stream = stream
        self._durable = durable
        self._filter = filter_subject
        self._handler = handler
        self._batch = batch
        self._stopping = False

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
                        max_deliver=-1,
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
                try:
                    msgs = await sub.fetch(self._batch, timeout=1.0)
                except NatsTimeout:
                    continue
                for msg in msgs:
                    try:
                        await self.handle(decode_envelope(msg.data))
                    except Exception:
                        log.exception("consumer %s failed on a message; redelivering", self._durable)
                        await msg.nak(delay=1.0)
                        continue
                    await msg.ack()
        finally:
            try:
                await sub.unsubscribe()
            except Exception:
                pass

    async def shutdown(self) -> None:
        self._stopping = True
