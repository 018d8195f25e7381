"""The projects of this instance with what they hold (`arkive projects`). A project exists once it
holds a collection or a grant; the gateway passes the names the caller may read (None: every one),
so no other name ever leaves here."""

from __future__ import annotations

import asyncpg
from arkive_core.validation import check_name

from arkive_common import api_catalog as ac

_SQL = """
WITH names AS (
    SELECT DISTINCT project FROM ingest_collections WHERE $1::text[] IS NULL OR project = ANY($1::text[])
    UNION SELECT DISTINCT project FROM auth_grants WHERE $1::text[] IS NULL OR project = ANY($1::text[])
), held AS (
    SELECT project, count(*) FILTER (WHERE version_count > deleted_count) AS collections,
           sum(version_count - deleted_count) AS versions
    FROM ingest_collections WHERE $1::text[] IS NULL OR project = ANY($1::text[]) GROUP BY project
), sized AS (
    SELECT project, sum(total_size) AS bytes FROM ingest_versions
    WHERE deleted_at IS NULL AND ($1::text[] IS NULL OR project = ANY($1::text[])) GROUP BY project
)
SELECT n.project, coalesce(h.collections, 0) AS collections, coalesce(h.versions, 0) AS versions,
       coalesce(s.bytes, 0) AS bytes
FROM names n LEFT JOIN held h USING (project) LEFT JOIN sized s USING (project) ORDER BY n.project
"""


async def list_projects(pool: asyncpg.Pool, q: ac.ListProjects) -> ac.ProjectList:
    names = None if q.projects is None else [check_name(p, "project") for p in q.projects]
    rows = await pool.fetch(_SQL, names)
    return ac.ProjectList(
        [ac.ProjectSummary(r["project"], r["collections"], int(r["versions"]), int(r["bytes"])) for r in rows]
    )
