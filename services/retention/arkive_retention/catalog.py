"""The retention projection: every committed version and which aliases protect it.

Replicas compete for events, so two events of one collection can be applied out of order; an alias
row therefore keeps the stream version of the event that set it and only a newer one replaces it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.events import AliasAssigned, Envelope, VersionCommitted

CONSUMER = "retention"
TABLES = ("retention_versions", "retention_aliases")
STREAMS = ("collection-",)

MIGRATIONS: list[str] = [
    """
    CREATE TABLE retention_versions (
        version_id text PRIMARY KEY, project text NOT NULL, name text NOT NULL, version int NOT NULL,
        type text NOT NULL, total_size bigint NOT NULL, created_at timestamptz NOT NULL);
    CREATE INDEX retention_versions_name ON retention_versions (project, name, version);
    CREATE TABLE retention_aliases (
        project text NOT NULL, name text NOT NULL, alias text NOT NULL, version_id text NOT NULL,
        stream_version int NOT NULL, PRIMARY KEY (project, name, alias));
    """,
]


async def apply(conn: asyncpg.Connection, env: Envelope) -> None:
    event = env.event()
    if isinstance(event, VersionCommitted):
        await conn.execute(
            "INSERT INTO retention_versions (version_id, project, name, version, type, total_size, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version_id) DO NOTHING",
            event.version_id,
            event.project,
            event.name,
            event.version,
            event.type,
            event.total_size,
            datetime.fromtimestamp(event.created_at, UTC),
        )
    elif isinstance(event, AliasAssigned):
        await conn.execute(
            "INSERT INTO retention_aliases (project, name, alias, version_id, stream_version)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, name, alias) DO UPDATE"
            " SET version_id = EXCLUDED.version_id, stream_version = EXCLUDED.stream_version"
            " WHERE retention_aliases.stream_version < EXCLUDED.stream_version",
            event.project,
            event.name,
            event.alias,
            event.version_id,
            env.stream_version,
        )


async def rebuild(pool: asyncpg.Pool) -> int:
    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=STREAMS, apply=apply, consumer=CONSUMER)
