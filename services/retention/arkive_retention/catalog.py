"""The retention projection: every committed version, which aliases protect it, whether it is
deleted, and retention's own configuration (TTLs, default TTLs, policies).

Collection events arrive through the bus consumer. Replicas compete for events, so two events of
one collection can be applied out of order: an alias row and a version's deletion state keep the
stream version of the event that set them and only a newer one replaces them; a deletion that
arrives before its version's commit raises NotYet (the consumer redelivers it a moment later,
without counting it as a failure).
Retention's own events ("retention-<project>" streams) are applied in the command's transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.consumer import NotYet
from arkive_common.events import (
    AliasAssigned,
    AliasRemoved,
    DefaultTtlSet,
    Envelope,
    Event,
    RetentionPolicyRemoved,
    RetentionPolicySet,
    VersionCommitted,
    VersionMetadataUpdated,
    VersionsDeleted,
    VersionsUndeleted,
    VersionTtlSet,
)

CONSUMER = "retention"
TABLES = (
    "retention_versions",
    "retention_aliases",
    "retention_ttls",
    "retention_default_ttls",
    "retention_policies",
)
STREAMS = ("collection-", "retention-")

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
    """
    -- metadata (keep-best-N by metric) is filled for versions committed after this step; run
    -- `arkive admin rebuild-projections` once after upgrading to fill it for older ones.
    ALTER TABLE retention_versions ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN deleted_at timestamptz, ADD COLUMN deleted_sv int NOT NULL DEFAULT 0;
    CREATE TABLE retention_ttls (version_id text PRIMARY KEY, ttl_seconds int NOT NULL);
    CREATE TABLE retention_default_ttls (
        project text NOT NULL, type text NOT NULL, ttl_seconds int NOT NULL, PRIMARY KEY (project, type));
    CREATE TABLE retention_policies (
        project text NOT NULL, name text NOT NULL, spec jsonb NOT NULL, PRIMARY KEY (project, name));
    """,
    # Metadata changed after commit (keep-best-N by metric sees the new metrics); the stream
    # version of the change that last set it, since replicas may apply changes out of order.
    "ALTER TABLE retention_versions ADD COLUMN metadata_sv int NOT NULL DEFAULT 0;",
    # A registry link's aliases protect its source version (looked up by version id in a plan).
    "CREATE INDEX retention_aliases_version ON retention_aliases (version_id);",
]
# The schedule's state (scheduler.py): not a projection, so not among TABLES (a rebuild keeps it).
MIGRATIONS.append(
    "CREATE TABLE retention_schedule (id int PRIMARY KEY CHECK (id = 1), last_run_at double precision NOT NULL);"
    " INSERT INTO retention_schedule VALUES (1, 0);"
)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def _set_deleted(conn: asyncpg.Connection, ids: list[str], deleted_at: datetime | None, sv: int) -> None:
    known = await conn.fetchval("SELECT count(*) FROM retention_versions WHERE version_id = ANY($1::text[])", ids)
    if known < len(set(ids)):
        raise NotYet("deletion event before its versions' commits")
    await conn.execute(
        "UPDATE retention_versions SET deleted_at = $2, deleted_sv = $3"
        " WHERE version_id = ANY($1::text[]) AND deleted_sv < $3",
        ids,
        deleted_at,
        sv,
    )


async def _alias(conn: asyncpg.Connection, project: str, name: str, alias: str, version_id: str, sv: int) -> None:
    await conn.execute(
        "INSERT INTO retention_aliases (project, name, alias, version_id, stream_version)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, name, alias) DO UPDATE"
        " SET version_id = EXCLUDED.version_id, stream_version = EXCLUDED.stream_version"
        " WHERE retention_aliases.stream_version < EXCLUDED.stream_version",
        project,
        name,
        alias,
        version_id,
        sv,
    )


async def apply(conn: asyncpg.Connection, env: Envelope) -> None:
    event = env.event()
    match event:
        case VersionCommitted():
            await conn.execute(
                "INSERT INTO retention_versions (version_id, project, name, version, type, total_size, created_at,"
                " metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (version_id) DO NOTHING",
                event.version_id,
                event.project,
                event.name,
                event.version,
                event.type,
                event.total_size,
                _ts(event.created_at),
                json.dumps(event.metadata),
            )
        case AliasAssigned():
            await _alias(conn, event.project, event.name, event.alias, event.version_id, env.stream_version)
        case AliasRemoved():  # a tombstone row, so an older assignment arriving late cannot revive it
            await _alias(conn, event.project, event.name, event.alias, "", env.stream_version)
        case VersionsDeleted():
            await _set_deleted(conn, event.version_ids, _ts(event.deleted_at), env.stream_version)
        case VersionsUndeleted():
            await _set_deleted(conn, event.version_ids, None, env.stream_version)
        case VersionMetadataUpdated():
            changed = await conn.execute(
                "UPDATE retention_versions SET metadata = $2, metadata_sv = $3"
                " WHERE version_id = $1 AND metadata_sv < $3",
                event.version_id,
                json.dumps(event.metadata),
                env.stream_version,
            )
            if changed == "UPDATE 0" and not await conn.fetchval(
                "SELECT 1 FROM retention_versions WHERE version_id = $1", event.version_id
            ):
                raise NotYet("metadata change before its version's commit")
        case _:
            await apply_own(conn, event)


async def apply_own(conn: asyncpg.Connection, event: Event) -> None:
    """Retention's own events, applied in the command's transaction and on rebuild."""
    match event:
        case VersionTtlSet():
            await conn.execute(
                "INSERT INTO retention_ttls (version_id, ttl_seconds) VALUES ($1, $2)"
                " ON CONFLICT (version_id) DO UPDATE SET ttl_seconds = EXCLUDED.ttl_seconds",
                event.version_id,
                event.ttl_seconds,
            )
        case DefaultTtlSet(ttl_seconds=0):
            await conn.execute(
                "DELETE FROM retention_default_ttls WHERE project = $1 AND type = $2", event.project, event.type
            )
        case DefaultTtlSet():
            await conn.execute(
                "INSERT INTO retention_default_ttls (project, type, ttl_seconds) VALUES ($1, $2, $3)"
                " ON CONFLICT (project, type) DO UPDATE SET ttl_seconds = EXCLUDED.ttl_seconds",
                event.project,
                event.type,
                event.ttl_seconds,
            )
        case RetentionPolicySet():
            await conn.execute(
                "INSERT INTO retention_policies (project, name, spec) VALUES ($1, $2, $3)"
                " ON CONFLICT (project, name) DO UPDATE SET spec = EXCLUDED.spec",
                event.project,
                event.policy_name,
                json.dumps(event.spec),
            )
        case RetentionPolicyRemoved():
            await conn.execute(
                "DELETE FROM retention_policies WHERE project = $1 AND name = $2", event.project, event.policy_name
            )


async def rebuild(pool: asyncpg.Pool) -> int:
    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=STREAMS, apply=apply, consumer=CONSUMER)
