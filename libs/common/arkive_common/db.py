"""PostgreSQL plumbing: connection pools and idempotent, concurrency-safe migrations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

MIGRATION_LOCK = 0x61726B69  # "arki": one advisory lock so N replicas starting at once migrate once.


# Array types the bulk statements bind (event log appends, pack indexes, leases). asyncpg looks
# each up in the catalog once per connection, about 20 ms apiece here, on the first statement that
# uses it; a new connection asks for all of them at once, before it serves anything.
BULK_ARRAY_TYPES = ("bigint[]", "int[]", "uuid[]", "bytea[]")


async def _learn_array_types(conn: asyncpg.Connection) -> None:
    await conn.prepare("SELECT " + ", ".join(f"${i}::{t}" for i, t in enumerate(BULK_ARRAY_TYPES, start=1)))


async def create_pool(dsn: str, *, min_size: int = 3, max_size: int = 10, password: str = "") -> asyncpg.Pool:
    """min_size: connections opened at start-up, so that the first requests do not open them.
    `password`, when given, overrides one in `dsn` (see Settings.database_password)."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=60,
        init=_learn_array_types,
        password=password or None,
    )


async def migrate(pool: asyncpg.Pool, component: str, steps: Sequence[str]) -> int:
    """Applies the not yet applied `steps` of `component` in order; returns how many ran.

    Steps are append-only: never edit a released one, add a new one. Each runs in the transaction
    that records it, under a transaction-scoped advisory lock, so concurrent starters serialize.
    """
    applied = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " component text NOT NULL, step int NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (component, step))"
        )
        done = await conn.fetchval(
            "SELECT coalesce(max(step), -1) FROM schema_migrations WHERE component = $1", component
        )
        for index, sql in enumerate(steps):
            if index <= done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (component, step) VALUES ($1, $2)", component, index)
            applied += 1
    return applied


def _stored_int(text: str) -> int | float:
    value = int(text)
    return value if -(2**63) <= value < 2**63 else float(text)


def load_jsonb(text: str) -> Any:
    """JSON read back from a jsonb column.

    jsonb keeps numbers as numeric and prints them without an exponent: the float 1e20 comes back
    as 100000000000000000000, which json.loads makes an int too large for msgpack (the reply would
    fail). The edge refuses integers outside int64 (limits.py), so such a number was a float.
    """
    return json.loads(text, parse_int=_stored_int)
