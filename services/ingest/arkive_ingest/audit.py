"""`arkive audit`: who did what, read from the event log (each event records the principal and the
correlation id of the call that appended it).

A project's audit covers the streams ingest can attribute to it: its collections, its drafts, its
retention settings and its grants (runs live in lineage's tables and show in the global audit).
Project admins see their project; only a global admin sees everything.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from arkive_core.errors import InvalidArgument, PermissionDenied
from arkive_core.validation import check_name

from arkive_common import api_auth as aa

from .auth_handlers import is_global_admin, require_project_admin

_SELECT = "SELECT position, recorded_at, principal, type, stream_id, correlation_id FROM events"
# left(...) = prefix, not LIKE: project names may hold "_", a LIKE wildcard
_PROJECT_STREAMS = (
    " AND (left(stream_id, length($3) + 12) = 'collection-' || $3 || '/'"
    " OR stream_id IN ('retention-' || $3, 'grant-' || $3)"
    " OR stream_id IN (SELECT 'draft-' || draft_id FROM ingest_drafts WHERE project = $3))"
)


async def audit(pool: asyncpg.Pool, q: aa.AuditQuery) -> aa.AuditPage:
    if q.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    try:
        after = int(q.page_token) if q.page_token else 0
    except ValueError:
        raise InvalidArgument(f"invalid page_token {q.page_token!r}") from None
    size = min(q.page_size or 200, 1000)
    since = datetime.fromtimestamp(max(q.since, 0.0), UTC)
    async with pool.acquire() as conn:
        if q.project:
            project = check_name(q.project, "project")
            await require_project_admin(conn, q.actor, project)
            rows = await conn.fetch(
                _SELECT
                + " WHERE position > $1 AND recorded_at >= $2"
                + _PROJECT_STREAMS
                + " ORDER BY position LIMIT $4",
                after,
                since,
                project,
                size + 1,
            )
        else:
            if not await is_global_admin(conn, q.actor):
                raise PermissionDenied("the whole log's audit is for global admins; name a --project you administer")
            rows = await conn.fetch(
                _SELECT + " WHERE position > $1 AND recorded_at >= $2 ORDER BY position LIMIT $3",
                after,
                since,
                size + 1,
            )
    more, rows = len(rows) > size, rows[:size]
    entries = [
        aa.AuditEntry(
            r["position"], r["recorded_at"].timestamp(), r["principal"], r["type"], r["stream_id"], r["correlation_id"]
        )
        for r in rows
    ]
    return aa.AuditPage(entries, str(rows[-1]["position"]) if more else "")
