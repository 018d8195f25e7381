"""Rebuilding a read model from the event log (the log is the source of truth; read models are
disposable). Shared by every service: lock the model's tables, empty them, replay the owned streams
in log order through the same `apply` the live path uses, all in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from . import eventlog
from .events import Envelope

Apply = Callable[[asyncpg.Connection, Envelope], Awaitable[object]]


async def rebuild(
    pool: asyncpg.Pool,
    *,
    tables: Sequence[str],
    stream_prefixes: tuple[str, ...],
    apply: Apply,
    consumer: str = "",
) -> int:
    """Returns how many events were replayed.

    The ACCESS EXCLUSIVE locks wait for in-flight writers of these tables and hold new ones back
    until the replay commits. For a bus consumer, its processed-event records are rewritten to the
    replayed ids, so messages still in flight on the bus stay harmless.
    """
    replayed = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        for table in tables:
            await conn.execute(f"DELETE FROM {table}")
        if consumer:
            await conn.execute("DELETE FROM processed_events WHERE consumer = $1", consumer)
        position = 0
        while batch := await eventlog.read_all(conn, position, 2000):
            owned = [e for e in batch if e.stream_id.startswith(stream_prefixes)]
            for env in owned:
                await apply(conn, env)
            if consumer and owned:
                await conn.execute(
                    "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])"
                    " ON CONFLICT DO NOTHING",
                    consumer,
                    [e.id for e in owned],
                )
            replayed += len(owned)
            position = batch[-1].position
    return replayed
