"""Idempotent CreateDraft: the client's request id of each draft, so a retried CreateDraft (the
answer to the first one was lost, e.g. the gateway restarted) gets the draft the first one made
instead of opening an orphan draft beside it.

The id travels in DraftCreated and sits in the drafts read model under a unique index, written in
the transaction that creates the draft: it survives restarts of every service, and two racing
requests with one id cannot both insert (the loser's transaction retries and finds the winner's).
"""

from __future__ import annotations

import re

import asyncpg
from arkive_core.errors import InvalidArgument

from arkive_common import api

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Appended to projection.MIGRATIONS (released steps are never edited).
MIGRATION = """
ALTER TABLE ingest_drafts ADD COLUMN request_id text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX ingest_drafts_request ON ingest_drafts (project, request_id) WHERE request_id <> '';
"""


def check_request_id(request_id: str) -> str:
    if request_id and not REQUEST_ID_RE.fullmatch(request_id):
        raise InvalidArgument(f"invalid request id {request_id[:80]!r}: 1 to 64 of A-Z a-z 0-9 _ -")
    return request_id


async def draft_of_request(conn: asyncpg.Connection, cmd: api.CreateDraft) -> str | None:
    """The id of the draft an earlier CreateDraft with cmd's request id created, if any."""
    if not cmd.request_id:
        return None
    row = await conn.fetchrow(
        "SELECT draft_id, name FROM ingest_drafts WHERE project = $1 AND request_id = $2", cmd.project, cmd.request_id
    )
    if row is None:
        return None
    if row["name"] != cmd.name:
        raise InvalidArgument(f"request id {cmd.request_id} already created a draft of {cmd.project}/{row['name']}")
    return row["draft_id"]
