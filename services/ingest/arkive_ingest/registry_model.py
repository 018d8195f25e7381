"""The registry's part of the ingest read model: links listed as versions of their collection of
links. A link row shows the registry's project, name and link number, the link time as its
`created_at`, the source's content, metadata and id, and the source ref in `linked_from`. A link
whose source version is deleted is not listed (its number stays taken)."""

from __future__ import annotations

import asyncpg

from arkive_common import api
from arkive_common.events import Event, VersionUnlinked

# Columns named like ingest_versions' so queries.to_view reads both kinds of rows.
LINK_COLUMNS = """
v.version_id, l.project, l.name, l.version, v.type, v.manifest_digest, v.file_count, v.total_size,
v.metadata, v.description, v.tags, v.label, l.linked_at AS created_at, v.run_id, v.deleted_at,
v.project AS data_project, v.project || '/' || v.name || ':v' || v.version AS linked_from
"""

LINK_SQL = (
    "SELECT "
    + LINK_COLUMNS
    + """, coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM ingest_aliases a
        WHERE a.project = l.project AND a.name = l.name AND a.version_id = l.version_id), '{}') AS aliases
FROM ingest_links l JOIN ingest_versions v ON v.version_id = l.version_id
"""
)

# What search reads in a project holding links: its own versions and its links, one row each
# (row_key tells two links of one source version apart). Only used for such projects, so the
# search of every other project keeps its plain plan over ingest_versions.
SEARCH_ROWS = (
    "(SELECT v.version_id, v.project, v.name, v.version, v.type, v.manifest_digest, v.file_count,"
    " v.total_size, v.metadata, v.description, v.tags, v.label, v.created_at, v.run_id, v.deleted_at,"
    " v.project AS data_project, '' AS linked_from, v.version_id AS row_key FROM ingest_versions v"
    " UNION ALL SELECT " + LINK_COLUMNS + ", l.version_id || '@' || l.name || ':' || l.version AS row_key"
    " FROM ingest_links l JOIN ingest_versions v ON v.version_id = l.version_id)"
)


async def apply(conn: asyncpg.Connection, event: Event) -> None:
    if isinstance(event, VersionUnlinked):
        await conn.execute(
            "DELETE FROM ingest_links WHERE project = $1 AND name = $2 AND version = $3",
            event.project,
            event.name,
            event.version,
        )
        await conn.execute(
            "UPDATE ingest_collections SET version_count = version_count - 1 WHERE project = $1 AND name = $2",
            event.project,
            event.name,
        )


async def is_link_collection(conn: asyncpg.Pool | asyncpg.Connection, project: str, name: str) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM ingest_links WHERE project = $1 AND name = $2 LIMIT 1", project, name)
    )


async def projects_have_links(conn: asyncpg.Pool | asyncpg.Connection, projects: list[str] | None) -> bool:
    """Whether any of `projects` (None: any project at all) holds a link."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM ingest_links WHERE $1::text[] IS NULL OR project = ANY($1::text[]) LIMIT 1", projects
        )
    )


async def link_rows(
    conn: asyncpg.Pool | asyncpg.Connection, project: str, name: str, before: int | None, limit: int
) -> list[asyncpg.Record]:
    """Live links of project/name, newest link first, below link number `before`."""
    return await conn.fetch(
        LINK_SQL + " WHERE l.project = $1 AND l.name = $2 AND ($3::int IS NULL OR l.version < $3)"
        " AND v.deleted_at IS NULL ORDER BY l.version DESC LIMIT $4",
        project,
        name,
        before,
        limit,
    )


async def collection_links(
    conn: asyncpg.Pool | asyncpg.Connection, project: str, names: list[str], to_view
) -> tuple[dict[tuple[str, str], api.VersionView], dict[str, int]]:
    """For the collections of links among `names`: each link's view by (name, source version id)
    of the ones `latest` names, and the count of live links by name (every collection of links
    among `names` is there, 0 when all its sources are deleted)."""
    rows = await conn.fetch(
        LINK_SQL + " WHERE l.project = $1 AND l.name = ANY($2::text[]) AND v.deleted_at IS NULL"
        " AND l.version_id = (SELECT a.version_id FROM ingest_aliases a WHERE a.project = l.project"
        " AND a.name = l.name AND a.alias = 'latest')",
        project,
        names,
    )
    counts = await conn.fetch(
        "SELECT l.name, count(*) FILTER (WHERE v.deleted_at IS NULL) AS n FROM ingest_links l"
        " JOIN ingest_versions v ON v.version_id = l.version_id"
        " WHERE l.project = $1 AND l.name = ANY($2::text[]) GROUP BY l.name",
        project,
        names,
    )
    return {(r["name"], r["version_id"]): to_view(r) for r in rows}, {r["name"]: r["n"] for r in counts}
