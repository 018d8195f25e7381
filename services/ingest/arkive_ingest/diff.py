"""The files diff of two versions, computed where the manifests are: one statement per page joins
the two manifests' entries (files and references) by path and keeps the paths that differ, in path
order. Only differences travel, so two 100k-file versions that differ in three files cost three
rows on the wire and nothing in the client's memory; identical manifests answer at once."""

from __future__ import annotations

import asyncpg

from arkive_common import api_diff as ad

from . import queries

MAX_PAGE = 5000

# A side: every entry of one manifest after the page token, files and references alike (a file's
# uri/etag/version_id are '', so a file replaced by a reference at the same path is "changed").
_SIDE = """
    SELECT path, digest, size, '' AS uri, '' AS etag, '' AS vid FROM ingest_manifest_entries
    WHERE manifest_digest = ${m} AND path > $3
    UNION ALL
    SELECT path, digest, size, uri, etag, version_id FROM ingest_manifest_references
    WHERE manifest_digest = ${m} AND path > $3
"""

_DIFF = f"""
WITH a AS ({_SIDE.format(m=1)}), b AS ({_SIDE.format(m=2)})
SELECT coalesce(a.path, b.path) AS path,
       a.path IS NOT NULL AS in_a, b.path IS NOT NULL AS in_b,
       coalesce(a.digest, '') AS old_digest, coalesce(a.size, 0) AS old_size, coalesce(a.uri, '') AS old_uri,
       coalesce(b.digest, '') AS new_digest, coalesce(b.size, 0) AS new_size, coalesce(b.uri, '') AS new_uri
FROM a FULL OUTER JOIN b ON a.path = b.path
WHERE a.path IS NULL OR b.path IS NULL
   OR (a.digest, a.size, a.uri, a.etag, a.vid) IS DISTINCT FROM (b.digest, b.size, b.uri, b.etag, b.vid)
ORDER BY 1 LIMIT $4
"""


def _change(r: asyncpg.Record) -> ad.FileChange:
    kind = ad.CHANGED if r["in_a"] and r["in_b"] else ad.REMOVED if r["in_a"] else ad.ADDED
    return ad.FileChange(
        path=r["path"],
        change=kind,
        old_digest=r["old_digest"],
        old_size=r["old_size"],
        old_uri=r["old_uri"] or "",
        new_digest=r["new_digest"],
        new_size=r["new_size"],
        new_uri=r["new_uri"] or "",
    )


async def diff_files(pool: asyncpg.Pool, q: ad.DiffFiles) -> ad.FileDiffPage:
    size = queries._page_size(q.page_size, 1000, MAX_PAGE)
    a = await queries.resolve(pool, q.ref_a)
    b = await queries.resolve(pool, q.ref_b)
    if a.manifest_digest == b.manifest_digest:
        return ad.FileDiffPage([])
    rows = await pool.fetch(_DIFF, a.manifest_digest, b.manifest_digest, q.page_token, size + 1)
    changes = queries._fit([_change(r) for r in rows[:size]], queries.PAGE_BYTES)
    more = len(rows) > len(changes)
    return ad.FileDiffPage(changes, changes[-1].path if more else "")
