"""The lineage projection. For now its nodes are the artifact versions that exist; runs and
used/logged edges join it with the runs feature. Applied exactly once per event (see consumer)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.events import Envelope, VersionCommitted

CONSUMER = "lineage"
TABLES = ("lineage_nodes",)
STREAMS = ("collection-",)

MIGRATIONS: list[str] = [
    """
    CREATE TABLE lineage_nodes (
        node_id text PRIMARY KEY, kind text NOT NULL, project text NOT NULL, name text NOT NULL,
        version int, type text NOT NULL, created_at timestamptz NOT NULL);
    CREATE INDEX lineage_nodes_name ON lineage_nodes (project, name, version);
    """,
]


async def apply(conn: asyncpg.Connection, env: Envelope) -> None:
    event = env.event()
    if isinstance(event, VersionCommitted):
        await conn.execute(
            "INSERT INTO lineage_nodes (node_id, kind, project, name, version, type, created_at)"
            " VALUES ($1, 'version', $2, $3, $4, $5, $6) ON CONFLICT (node_id) DO NOTHING",
            event.version_id,
            event.project,
            event.name,
            event.version,
            event.type,
            datetime.fromtimestamp(event.created_at, UTC),
        )


async def rebuild(pool: asyncpg.Pool) -> int:
    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=STREAMS, apply=apply, consumer=CONSUMER)
