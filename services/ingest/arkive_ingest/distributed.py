"""Distributed drafts: many workers upsert files into one draft named by a distributed id, and one
finish commits it as exactly one version (W&B's upsert_artifact / finish_artifact).

Every upsert locks the draft row FOR UPDATE, so upserts into one draft and its finish serialize:
conflicts between workers are detected reliably, an upsert after the finish sees the draft closed,
and a second finish waits for the first and then returns the same version.
"""

from __future__ import annotations

import time
import uuid

import asyncpg
from arkive_core.errors import FailedPrecondition, NotFound
from arkive_core.validation import check_name, check_type

from arkive_common import api, eventlog
from arkive_common.events import DraftAborted, DraftCreated, Event

from . import queries
from .handlers import (
    CommitOptions,
    IngestHandlers,
    apply_and_append,
    commit,
    draft_stream,
    files_added,
    open_draft,
    retrying,
)

_OPEN = "committed_version_id = '' AND NOT aborted"


async def _open_distributed(conn: asyncpg.Connection, project: str, name: str, distributed_id: str):
    return await conn.fetchrow(
        f"SELECT * FROM ingest_drafts WHERE project = $1 AND name = $2 AND distributed_id = $3 AND {_OPEN} FOR UPDATE",
        project,
        name,
        distributed_id,
    )


async def _last_finished(conn: asyncpg.Connection, project: str, name: str, distributed_id: str):
    return await conn.fetchrow(
        "SELECT * FROM ingest_drafts WHERE project = $1 AND name = $2 AND distributed_id = $3"
        " AND committed_version_id <> '' ORDER BY updated_at DESC, created_at DESC LIMIT 1",
        project,
        name,
        distributed_id,
    )


class DistributedHandlers:
    def __init__(self, base: IngestHandlers) -> None:
        self.base = base
        self.pool = base.pool

    async def upsert_files(self, cmd: api.UpsertFiles) -> api.Upserted:
        check_name(cmd.project, "project")
        check_name(cmd.name)
        check_type(cmd.type)
        check_name(cmd.distributed_id, "distributed id")
        entries = await self.base.check_entries(cmd.entries)
        where = f"{cmd.project}/{cmd.name} (distributed id {cmd.distributed_id!r})"

        async def attempt(conn: asyncpg.Connection) -> api.Upserted:
            await self.base.hold_blobs(conn, entries)  # first: before any row lock (see hold_blobs)
            events: list[Event] = []
            draft = await _open_distributed(conn, cmd.project, cmd.name, cmd.distributed_id)
            if draft is None:
                finished = await _last_finished(conn, cmd.project, cmd.name, cmd.distributed_id)
                if finished is not None and not cmd.start_new:
                    view = await queries.version_by_id(conn, finished["committed_version_id"])
                    raise FailedPrecondition(
                        f"{where} was already finished as v{view.version}; upsert with start_new=True to open a new"
                        " draft for this distributed id"
                    )
                draft_id = uuid.uuid4().hex
                # Two first upserts racing: the unique index on open distributed drafts rejects the
                # second insert, `retrying` runs it again and it then finds the winner's draft.
                events.append(
                    DraftCreated(
                        draft_id=draft_id,
                        project=cmd.project,
                        name=cmd.name,
                        type=cmd.type,
                        created_at=time.time(),
                        distributed_id=cmd.distributed_id,
                    )
                )
                existing: dict[str, str] = {}
            else:
                draft_id = draft["draft_id"]
                if draft["type"] != cmd.type:
                    raise FailedPrecondition(f"{where} is a draft of type {draft['type']!r}, not {cmd.type!r}")
                rows = await conn.fetch(
                    "SELECT path, digest FROM ingest_draft_entries WHERE draft_id = $1 AND path = ANY($2::text[])",
                    draft_id,
                    list(entries),
                )
                existing = {r["path"]: r["digest"] for r in rows}
            if not cmd.overwrite:
                for path, digest, _ in entries.values():
                    if existing.get(path, digest) != digest:
                        raise FailedPrecondition(
                            f"{where}: {path} was already added with {existing[path]}; this upsert has {digest}"
                            " (upsert with overwrite=True to replace it)"
                        )
            changed = [e for e in entries.values() if existing.get(e[0]) != e[1]]
            if changed or draft is None:
                # A retried upsert changes nothing: entries already present with the same digest are skipped.
                events.extend(files_added(draft_id, changed))
                await apply_and_append(conn, [eventlog.Append(draft_stream(draft_id), events, None)])
            count = await conn.fetchval("SELECT count(*) FROM ingest_draft_entries WHERE draft_id = $1", draft_id)
            return api.Upserted(draft_id=draft_id, file_count=count)

        return await retrying(self.pool, attempt)

    async def finish(self, cmd: api.FinishDistributed) -> api.Committed:
        check_name(cmd.project, "project")
        check_name(cmd.name)
        check_name(cmd.distributed_id, "distributed id")
        options = CommitOptions.checked(cmd.metadata, cmd.description, cmd.aliases, cmd.tags, cmd.label, cmd.run_id)

        async def attempt(conn: asyncpg.Connection) -> api.Committed:
            draft = await _open_distributed(conn, cmd.project, cmd.name, cmd.distributed_id)
            if draft is None:
                # A concurrent finish won (or this is a retry): answer with the version it made.
                finished = await _last_finished(conn, cmd.project, cmd.name, cmd.distributed_id)
                if finished is None:
                    raise NotFound(
                        f"no distributed draft {cmd.distributed_id!r} for {cmd.project}/{cmd.name}:"
                        " nothing was upserted"
                    )
                view = await queries.version_by_id(conn, finished["committed_version_id"])
                return api.Committed(version=view, created=False)
            return await commit(conn, draft, options)

        return await retrying(self.pool, attempt)

    async def list_drafts(self, q: api.ListDrafts) -> api.DraftList:
        check_name(q.project, "project")
        rows = await self.pool.fetch(
            "SELECT d.*, (SELECT count(*) FROM ingest_draft_entries e WHERE e.draft_id = d.draft_id)"
            " + (SELECT count(*) FROM ingest_draft_references r WHERE r.draft_id = d.draft_id) AS files"
            f" FROM ingest_drafts d WHERE project = $1 AND {_OPEN}"
            " AND updated_at <= now() - make_interval(secs => $2) ORDER BY updated_at",
            q.project,
            max(q.idle_seconds, 0),
        )
        return api.DraftList(
            drafts=[
                api.DraftView(
                    draft_id=r["draft_id"],
                    project=r["project"],
                    name=r["name"],
                    type=r["type"],
                    distributed_id=r["distributed_id"],
                    file_count=r["files"],
                    created_at=r["created_at"].timestamp(),
                    updated_at=r["updated_at"].timestamp(),
                )
                for r in rows
            ]
        )

    async def abort(self, cmd: api.AbortDraft) -> api.Empty:
        async with self.pool.acquire() as conn, conn.transaction():
            draft = await open_draft(conn, cmd.draft_id, "FOR UPDATE")
            event = DraftAborted(draft_id=draft["draft_id"], aborted_at=time.time())
            await apply_and_append(conn, [eventlog.Append(draft_stream(draft["draft_id"]), [event], None)])
        return api.Empty()
