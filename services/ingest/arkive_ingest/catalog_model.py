"""The catalogue's part of the ingest read model: annotations after commit, the numeric metadata
index search filters and sorts by, registry links, and the indexes search needs. Called from
projection.apply (live and on rebuild), so a rebuild reproduces every table here."""

from __future__ import annotations

import json

import asyncpg

from arkive_common.events import (
    Event,
    VersionDescriptionSet,
    VersionLinked,
    VersionMetadataUpdated,
    VersionTagsUpdated,
)

TABLES = ("ingest_version_metrics", "ingest_links")

# Numeric leaves of a version's metadata, by dotted path (at most 4 levels, keys of the same safe
# pattern as api_catalog.METADATA_KEY_RE, at most 256 per version). `{where}` is a constant of this
# module, never user input: the same statement fills the table on commit, on update and below.
_INDEX_METRICS = r"""
WITH RECURSIVE leaves(version_id, project, path, value, depth) AS (
    SELECT v.version_id, v.project, e.key, e.value, 1 FROM ingest_versions v, jsonb_each(v.metadata) e {where}
    UNION ALL
    SELECT l.version_id, l.project, l.path || '.' || e.key, e.value, l.depth + 1
    FROM leaves l, jsonb_each(CASE WHEN jsonb_typeof(l.value) = 'object' THEN l.value ELSE '{}' END) e
    WHERE l.depth < 4
), numbered AS (
    SELECT version_id, project, path, value, row_number() OVER (PARTITION BY version_id ORDER BY path) AS n
    FROM leaves WHERE jsonb_typeof(value) = 'number'
      AND path ~ '^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,3}$'
)
INSERT INTO ingest_version_metrics (version_id, project, key, num)
SELECT version_id, project, path, value::numeric FROM numbered WHERE n <= 256
"""

# Appended to projection.MIGRATIONS (released steps are never edited).
MIGRATION = """
ALTER TABLE ingest_versions ADD COLUMN run_id text NOT NULL DEFAULT '';
CREATE TABLE ingest_version_metrics (
    version_id text NOT NULL, project text NOT NULL, key text NOT NULL, num numeric NOT NULL,
    PRIMARY KEY (version_id, key));
-- "accuracy > 0.9" and "sorted by accuracy" are range scans of one project's key.
CREATE INDEX ingest_version_metrics_key ON ingest_version_metrics (project, key, num, version_id);
CREATE TABLE ingest_links (
    project text NOT NULL, name text NOT NULL, version int NOT NULL, version_id text NOT NULL,
    source_project text NOT NULL, source_name text NOT NULL, source_version int NOT NULL,
    linked_at timestamptz NOT NULL, PRIMARY KEY (project, name, version));
CREATE INDEX ingest_links_version ON ingest_links (version_id);
-- Search: live versions of a project, newest first (optionally of one type), by number, by tags,
-- by metadata equality (containment), by producing run, by alias.
CREATE INDEX ingest_versions_search_created ON ingest_versions (project, created_at, version_id)
    WHERE deleted_at IS NULL;
CREATE INDEX ingest_versions_search_type ON ingest_versions (project, type, created_at, version_id)
    WHERE deleted_at IS NULL;
CREATE INDEX ingest_versions_search_version ON ingest_versions (project, version, version_id)
    WHERE deleted_at IS NULL;
CREATE INDEX ingest_versions_tags ON ingest_versions USING gin (tags);
CREATE INDEX ingest_versions_metadata ON ingest_versions USING gin (metadata jsonb_path_ops);
CREATE INDEX ingest_versions_run ON ingest_versions (run_id) WHERE run_id <> '';
CREATE INDEX ingest_aliases_alias ON ingest_aliases (project, alias);
-- Versions logged before this step (their run ids need `arkive admin rebuild-projections`).
""" + _INDEX_METRICS.replace("{where}", "")


async def index_metadata(conn: asyncpg.Connection, version_id: str) -> None:
    await conn.execute("DELETE FROM ingest_version_metrics WHERE version_id = $1", version_id)
    await conn.execute(_INDEX_METRICS.replace("{where}", "WHERE v.version_id = $1"), version_id)


async def apply(conn: asyncpg.Connection, event: Event) -> None:
    match event:
        case VersionMetadataUpdated():
            await conn.execute(
                "UPDATE ingest_versions SET metadata = $2 WHERE version_id = $1",
                event.version_id,
                json.dumps(event.metadata),
            )
            await index_metadata(conn, event.version_id)
        case VersionTagsUpdated():
            await conn.execute(
                "UPDATE ingest_versions SET tags = $2 WHERE version_id = $1", event.version_id, event.tags
            )
        case VersionDescriptionSet():
            await conn.execute(
                "UPDATE ingest_versions SET description = $2 WHERE version_id = $1", event.version_id, event.description
            )
        case VersionLinked():
            await conn.execute(
                "INSERT INTO ingest_links (project, name, version, version_id, source_project, source_name,"
                " source_version, linked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8))",
                event.project,
                event.name,
                event.version,
                event.version_id,
                event.source_project,
                event.source_name,
                event.source_version,
                event.linked_at,
            )
            # A link counts as a version of the registry collection (listed, never "all deleted").
            await conn.execute(
                "UPDATE ingest_collections SET version_count = version_count + 1, latest_version_id = $3"
                " WHERE project = $1 AND name = $2",
                event.project,
                event.name,
                event.version_id,
            )
