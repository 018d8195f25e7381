"""The ingest read model: collections, versions, aliases, drafts and manifests in Postgres.

Updated by the same `apply` in the command's transaction (so a client reads its own writes at
once) and by `rebuild`, which replays the event log into empty tables.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.events import (
    AliasAssigned,
    CollectionCreated,
    DraftAborted,
    DraftCommitted,
    DraftCreated,
    DraftFilesAdded,
    DraftFilesRemoved,
    DraftReferencesAdded,
    Envelope,
    Event,
    VersionCommitted,
    VersionDescriptionSet,
    VersionLinked,
    VersionMetadataUpdated,
    VersionTagsUpdated,
    VersionUnlinked,
)

from . import catalog_model, draft_requests, incremental, references, registry_model, snapshots, tombstones

TABLES = (
    "ingest_collections",
    "ingest_versions",
    "ingest_aliases",
    "ingest_drafts",
    "ingest_draft_entries",
    "ingest_manifest_entries",
    *catalog_model.TABLES,
    *references.TABLES,
)

MIGRATIONS: list[str] = [
    """
    CREATE TABLE ingest_collections (
        project text NOT NULL, name text NOT NULL, type text NOT NULL,
        created_at timestamptz NOT NULL, version_count int NOT NULL DEFAULT 0,
        latest_version_id text NOT NULL DEFAULT '',
        PRIMARY KEY (project, name));
    CREATE INDEX ingest_collections_type ON ingest_collections (project, type, name);
    CREATE TABLE ingest_versions (
        version_id text PRIMARY KEY, project text NOT NULL, name text NOT NULL, version int NOT NULL,
        type text NOT NULL, manifest_digest text NOT NULL, file_count bigint NOT NULL,
        total_size bigint NOT NULL, metadata jsonb NOT NULL, description text NOT NULL,
        tags text[] NOT NULL, label text NOT NULL, created_at timestamptz NOT NULL,
        UNIQUE (project, name, version));
    CREATE INDEX ingest_versions_manifest ON ingest_versions (project, name, manifest_digest);
    CREATE UNIQUE INDEX ingest_versions_label ON ingest_versions (project, name, label) WHERE label <> '';
    CREATE TABLE ingest_aliases (
        project text NOT NULL, name text NOT NULL, alias text NOT NULL, version_id text NOT NULL,
        PRIMARY KEY (project, name, alias));
    CREATE INDEX ingest_aliases_version ON ingest_aliases (version_id);
    CREATE TABLE ingest_drafts (
        draft_id text PRIMARY KEY, project text NOT NULL, name text NOT NULL, type text NOT NULL,
        created_at timestamptz NOT NULL, committed_version_id text NOT NULL DEFAULT '');
    CREATE TABLE ingest_draft_entries (
        draft_id text NOT NULL, path text NOT NULL, digest text NOT NULL, size bigint NOT NULL,
        PRIMARY KEY (draft_id, path));
    CREATE TABLE ingest_manifest_entries (
        manifest_digest text NOT NULL, path text NOT NULL, digest text NOT NULL, size bigint NOT NULL,
        PRIMARY KEY (manifest_digest, path));
    """,
    """
    ALTER TABLE ingest_drafts ADD COLUMN distributed_id text NOT NULL DEFAULT '',
        ADD COLUMN updated_at timestamptz, ADD COLUMN aborted boolean NOT NULL DEFAULT false;
    UPDATE ingest_drafts SET updated_at = created_at;
    ALTER TABLE ingest_drafts ALTER COLUMN updated_at SET NOT NULL;
    -- One open draft per distributed id: racing first upserts collide here and retry.
    CREATE UNIQUE INDEX ingest_drafts_open_distributed ON ingest_drafts (project, name, distributed_id)
        WHERE distributed_id <> '' AND committed_version_id = '' AND NOT aborted;
    CREATE INDEX ingest_drafts_open ON ingest_drafts (project, updated_at)
        WHERE committed_version_id = '' AND NOT aborted;
    """,
    tombstones.MIGRATION,  # deleted versions (retention)
    catalog_model.MIGRATION,  # run ids, metadata index, links, search indexes (catalogue)
    references.MIGRATION,  # reference entries of drafts and manifests
    draft_requests.MIGRATION,  # the client's request id of each draft (idempotent CreateDraft)
    snapshots.MIGRATION,  # collection state snapshots (a cache of the log, see snapshots.py)
]


def ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def apply(conn: asyncpg.Connection, event: Event) -> None:
    match event:
        case CollectionCreated():
            await conn.execute(
                "INSERT INTO ingest_collections (project, name, type, created_at) VALUES ($1, $2, $3, $4)",
                event.project,
                event.name,
                event.type,
                ts(event.created_at),
            )
        case VersionCommitted():
            await conn.execute(
                "INSERT INTO ingest_versions (version_id, project, name, version, type, manifest_digest,"
                " file_count, total_size, metadata, description, tags, label, created_at, run_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                event.version_id,
                event.project,
                event.name,
                event.version,
                event.type,
                event.manifest_digest,
                event.file_count,
                event.total_size,
                json.dumps(event.metadata),
                event.description,
                event.tags,
                event.label,
                ts(event.created_at),
                event.run_id,
            )
            await catalog_model.index_metadata(conn, event.version_id)
            # Identical manifests are stored once, whatever the number of versions sharing them.
            await conn.execute(
                "INSERT INTO ingest_manifest_entries (manifest_digest, path, digest, size)"
                " SELECT $1, path, digest, size FROM ingest_draft_entries WHERE draft_id = $2"
                " ON CONFLICT DO NOTHING",
                event.manifest_digest,
                event.draft_id,
            )
            await references.on_version_committed(conn, event)
            await conn.execute(
                "UPDATE ingest_collections SET version_count = version_count + 1, latest_version_id = $3"
                " WHERE project = $1 AND name = $2",
                event.project,
                event.name,
                event.version_id,
            )
        case AliasAssigned():
            await conn.execute(
                "INSERT INTO ingest_aliases (project, name, alias, version_id) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (project, name, alias) DO UPDATE SET version_id = EXCLUDED.version_id",
                event.project,
                event.name,
                event.alias,
                event.version_id,
            )
        case DraftCreated():
            await conn.execute(
                "INSERT INTO ingest_drafts"
                " (draft_id, project, name, type, created_at, updated_at, distributed_id, request_id)"
                " VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
                event.draft_id,
                event.project,
                event.name,
                event.type,
                ts(event.created_at),
                event.distributed_id,
                event.request_id,
            )
            if event.base_version_id:  # an incremental draft starts with the base's entries
                await incremental.copy_base(conn, event.draft_id, event.base_version_id)
        case DraftFilesAdded():
            # One statement over arrays, not a row-by-row executemany (2,000 entries: ~30 ms less
            # here). ON CONFLICT must not meet a path twice in one statement: the last entry wins.
            entries = list({path: (path, digest, size) for path, digest, size in event.entries}.values())
            await conn.execute(
                "INSERT INTO ingest_draft_entries (draft_id, path, digest, size)"
                " SELECT $1, p, d, s FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(p, d, s)"
                " ON CONFLICT (draft_id, path) DO UPDATE SET digest = EXCLUDED.digest, size = EXCLUDED.size",
                event.draft_id,
                [e[0] for e in entries],
                [e[1] for e in entries],
                [e[2] for e in entries],
            )
            if event.added_at:
                await conn.execute(
                    "UPDATE ingest_drafts SET updated_at = $2 WHERE draft_id = $1", event.draft_id, ts(event.added_at)
                )
        case DraftFilesRemoved():
            await incremental.apply_removal(conn, event)
        case DraftAborted():
            await conn.execute("UPDATE ingest_drafts SET aborted = true WHERE draft_id = $1", event.draft_id)
            await conn.execute("DELETE FROM ingest_draft_entries WHERE draft_id = $1", event.draft_id)
            await references.on_draft_closed(conn, event.draft_id)
        case DraftReferencesAdded():
            await references.apply(conn, event)
        case DraftCommitted():
            await conn.execute(
                "UPDATE ingest_drafts SET committed_version_id = $2 WHERE draft_id = $1",
                event.draft_id,
                event.version_id,
            )
            await conn.execute("DELETE FROM ingest_draft_entries WHERE draft_id = $1", event.draft_id)
            await references.on_draft_closed(conn, event.draft_id)
        case VersionMetadataUpdated() | VersionTagsUpdated() | VersionDescriptionSet() | VersionLinked():
            await catalog_model.apply(conn, event)
        case VersionUnlinked():
            await registry_model.apply(conn, event)
        case _:
            await tombstones.apply(conn, event)  # VersionsDeleted, VersionsUndeleted, AliasRemoved


async def rebuild(pool: asyncpg.Pool) -> int:
    async def replay(conn: asyncpg.Connection, env: Envelope) -> None:
        await apply(conn, env.event())

    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=("collection-", "draft-"), apply=replay)
