"""The lineage projection: nodes are artifact versions and runs; edges are "used" (version -> run)
and "logged" (run -> version). Built only from events: run events are applied in the command's
transaction (lineage owns runs), collection events arrive through the bus consumer, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.consumer import NotYet
from arkive_common.events import (
    ArtifactUsed,
    CacheKeyRecorded,
    Envelope,
    Event,
    RunCrashed,
    RunFinished,
    RunStarted,
    VersionCommitted,
    VersionsDeleted,
    VersionsUndeleted,
)

CONSUMER = "lineage"
TABLES = ("lineage_nodes", "lineage_runs", "lineage_edges", "lineage_cache")
STREAMS = ("collection-", "run-")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE lineage_nodes (
        node_id text PRIMARY KEY, kind text NOT NULL, project text NOT NULL, name text NOT NULL,
        version int, type text NOT NULL, created_at timestamptz NOT NULL);
    CREATE INDEX lineage_nodes_name ON lineage_nodes (project, name, version);
    """,
    """
    -- deleted_at: set when a version is deleted (retention feature); lineage keeps the node.
    ALTER TABLE lineage_nodes ADD COLUMN deleted_at timestamptz;
    CREATE TABLE lineage_runs (
        run_id text PRIMARY KEY, project text NOT NULL, name text NOT NULL, job_type text NOT NULL,
        run_group text NOT NULL, config jsonb NOT NULL, state text NOT NULL, started_at timestamptz NOT NULL,
        finished_at timestamptz, heartbeat_timeout int NOT NULL,
        -- Soft state, not an event: refreshed by heartbeats, reset to the last event time on rebuild.
        last_heartbeat timestamptz NOT NULL);
    CREATE INDEX lineage_runs_project ON lineage_runs (project, started_at DESC, run_id);
    CREATE INDEX lineage_runs_running ON lineage_runs (last_heartbeat) WHERE state = 'running';
    CREATE TABLE lineage_edges (
        source text NOT NULL, target text NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL,
        PRIMARY KEY (source, target, kind));
    CREATE INDEX lineage_edges_target ON lineage_edges (target, source);
    CREATE TABLE lineage_cache (
        project text NOT NULL, cache_key text NOT NULL, run_id text NOT NULL, version_ids text[] NOT NULL,
        recorded_at timestamptz NOT NULL, PRIMARY KEY (project, cache_key, run_id));
    """,
]


def ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def _node(
    conn: asyncpg.Connection,
    node_id: str,
    kind: str,
    project: str,
    name: str,
    version: int | None,
    type_: str,
    at: float,
) -> None:
    await conn.execute(
        "INSERT INTO lineage_nodes (node_id, kind, project, name, version, type, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node_id) DO NOTHING",
        node_id,
        kind,
        project,
        name,
        version,
        type_,
        ts(at),
    )


async def _edge(conn: asyncpg.Connection, source: str, target: str, kind: str, at: float) -> None:
    await conn.execute(
        "INSERT INTO lineage_edges (source, target, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        source,
        target,
        kind,
        ts(at),
    )


async def _known(conn: asyncpg.Connection, version_ids: list[str]) -> None:
    """A deletion that overtook its versions' commits (replicas compete, a failed message comes back
    later) would otherwise update nothing and be lost: it waits for them instead."""
    known = await conn.fetchval("SELECT count(*) FROM lineage_nodes WHERE node_id = ANY($1::text[])", version_ids)
    if known < len(set(version_ids)):
        raise NotYet("deletion event before its versions' commits")


async def apply_event(conn: asyncpg.Connection, event: Event) -> None:
    match event:
        case VersionCommitted():
            await _node(
                conn,
                event.version_id,
                "version",
                event.project,
                event.name,
                event.version,
                event.type,
                event.created_at,
            )
            if event.run_id:
                await _edge(conn, event.run_id, event.version_id, "logged", event.created_at)
        case RunStarted():
            await _node(conn, event.run_id, "run", event.project, event.name, None, event.job_type, event.started_at)
            await conn.execute(
                "INSERT INTO lineage_runs (run_id, project, name, job_type, run_group, config, state, started_at,"
                " heartbeat_timeout, last_heartbeat) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $7)"
                " ON CONFLICT (run_id) DO NOTHING",
                event.run_id,
                event.project,
                event.name,
                event.job_type,
                event.group,
                json.dumps(event.config),
                ts(event.started_at),
                event.heartbeat_timeout,
            )
        case ArtifactUsed():
            # The version node may not have arrived through the bus yet: the event carries enough.
            await _node(
                conn,
                event.version_id,
                "version",
                event.project,
                event.name,
                event.version,
                event.type,
                event.version_created_at,
            )
            await _edge(conn, event.version_id, event.run_id, "used", event.used_at)
            await conn.execute(
                "UPDATE lineage_runs SET last_heartbeat = greatest(last_heartbeat, $2) WHERE run_id = $1",
                event.run_id,
                ts(event.used_at),
            )
        case CacheKeyRecorded():
            await conn.execute(
                "INSERT INTO lineage_cache (project, cache_key, run_id, version_ids, recorded_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, cache_key, run_id)"
                " DO UPDATE SET version_ids = EXCLUDED.version_ids, recorded_at = EXCLUDED.recorded_at",
                event.project,
                event.cache_key,
                event.run_id,
                event.version_ids,
                ts(event.recorded_at),
            )
        case RunFinished():
            await conn.execute(
                "UPDATE lineage_runs SET state = $2, finished_at = $3 WHERE run_id = $1",
                event.run_id,
                event.state,
                ts(event.finished_at),
            )
        case VersionsDeleted():  # the node stays, marked deleted (retention)
            await _known(conn, event.version_ids)
            await conn.execute(
                "UPDATE lineage_nodes SET deleted_at = coalesce(deleted_at, $2) WHERE node_id = ANY($1::text[])",
                event.version_ids,
                ts(event.deleted_at),
            )
        case VersionsUndeleted():
            await _known(conn, event.version_ids)
            await conn.execute(
                "UPDATE lineage_nodes SET deleted_at = NULL WHERE node_id = ANY($1::text[])", event.version_ids
            )
        case RunCrashed():
            await conn.execute(
                "UPDATE lineage_runs SET state = 'crashed', finished_at = $2 WHERE run_id = $1 AND state = 'running'",
                event.run_id,
                ts(event.detected_at),
            )


async def apply(conn: asyncpg.Connection, env: Envelope) -> None:
    await apply_event(conn, env.event())


async def rebuild(pool: asyncpg.Pool) -> int:
    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=STREAMS, apply=apply, consumer=CONSUMER)
