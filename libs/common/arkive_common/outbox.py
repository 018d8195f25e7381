"""The outbox relay: publishes committed events to JetStream, at least once, in log order.

`eventlog.append` writes an outbox row in the appending transaction, so nothing is published
before it commits and nothing committed is forgotten. The relay publishes a batch with
`Nats-Msg-Id` = event id (JetStream drops duplicates within its window; consumers dedupe the rest)
and deletes the rows only after JetStream acked them: a crash in between means a re-publish, never
a loss. Every service process that appends runs a relay; a transaction-scoped advisory lock lets one
relay at a time take a batch (no leader to elect, any replica takes over), which keeps publication in
position order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.js import JetStreamContext

from .bus import event_subject
from .eventlog import _COLUMNS, OUTBOX_CHANNEL, _row_to_envelope
from .events import Envelope, encode_envelope
from .tracing import TRACEPARENT

log = logging.getLogger(__name__)
RELAY_LOCK = 0x61726B72  # "arkr"
_E_COLUMNS = ", ".join("e." + c.strip() for c in _COLUMNS.split(","))


def _headers(e: Envelope) -> dict[str, str]:
    """Nats-Msg-Id for JetStream's deduplication; the append's traceparent so consumers continue its trace."""
    return {"Nats-Msg-Id": e.id, TRACEPARENT: e.traceparent} if e.traceparent else {"Nats-Msg-Id": e.id}


class OutboxRelay:
    def __init__(
        self, pool: asyncpg.Pool, js: JetStreamContext, prefix: str, *, batch: int = 500, poll: float = 1.0
    ) -> None:
        self._pool = pool
        self._js = js
        self._prefix = prefix
        self._batch = batch
        self._poll = poll
        self._wake = asyncio.Event()
        self._stopping = False
        self._listener: asyncpg.Connection | None = None

    async def relay_once(self) -> int:
        """Publishes up to one batch; returns how many events went out (0: nothing or busy)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                f"SELECT {_E_COLUMNS}"
                " FROM outbox o JOIN events e ON e.position = o.position ORDER BY o.position LIMIT $1",
                self._batch,
            )
            if not rows:
                return 0
            envelopes = [_row_to_envelope(r) for r in rows]
            # Started in order, so they reach the server in order; awaited together for throughput.
            await asyncio.gather(
                *(
                    self._js.publish(
                        event_subject(self._prefix, e.stream_id, e.type),
                        encode_envelope(e),
                        headers=_headers(e),
                        timeout=10,
                    )
                    for e in envelopes
                )
            )
            await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", [e.position for e in envelopes])
            return len(envelopes)

    async def run(self) -> None:
        await self._listen()
        while not self._stopping:
            if self._listener_lost():
                await self._listen()  # PostgreSQL restarted: its notifications died with the session
            try:
                sent = await self.relay_once()
            except Exception as exc:  # NATS or Postgres away: keep the rows, retry later
                log.warning("outbox relay: %s; retrying", exc)
                sent = 0
                await asyncio.sleep(self._poll)
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _listen(self) -> None:
        if self._listener is not None:  # a dead session: give its pool slot back
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await self._pool.release(listener)
        try:
            conn = await self._pool.acquire()
            try:
                await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            except BaseException:
                await self._pool.release(conn)
                raise
            self._listener = conn
        except Exception as exc:  # polling still works without notifications; tried again next round
            log.warning("outbox relay: LISTEN failed (%s); polling meanwhile", exc)

    def _listener_lost(self) -> bool:
        if self._listener is None:
            return True
        try:
            return self._listener.is_closed()
        except asyncpg.InterfaceError:  # the pool already took the broken connection back
            return True

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def shutdown(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.remove_listener(OUTBOX_CHANNEL, self._on_notify)
                await self._pool.release(listener)
