"""Command handlers of ingest: load state from the log, decide, apply the read model, append."""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from arkive_core import refs
from arkive_core.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from arkive_core.limits import MAX_FILES_PER_CALL, check_json_value
from arkive_core.manifest import manifest_digest
from arkive_core.validation import (
    MAX_ALIASES,
    MAX_TAGS,
    check_alias,
    check_description,
    check_digest,
    check_label,
    check_list,
    check_name,
    check_path,
    check_size,
    check_tag,
    check_type,
    file_folder_conflicts,
)

from arkive_common import api, blob_locks, eventlog, metadata_paths
from arkive_common.contracts import HASHING
from arkive_common.events import DraftCommitted, DraftCreated, DraftFilesAdded, Event
from arkive_common.rpc import RpcClient

from . import domain, draft_requests, incremental, projection, queries, references, snapshots

ENTRY_OVERHEAD = 32  # msgpack framing of an entry and its size field, generously
COMMIT_ATTEMPTS = 200
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")


async def committed_created(conn: asyncpg.Connection, draft_id: str) -> bool:
    """Whether the commit of a committed draft made a new version (its DraftCommitted says)."""
    for env in reversed(await eventlog.read_stream(conn, draft_stream(draft_id))):
        event = env.event()
        if isinstance(event, DraftCommitted):
            return event.created
    return False


def collection_stream(project: str, name: str) -> str:
    return f"collection-{project}/{name}"


def draft_stream(draft_id: str) -> str:
    return f"draft-{draft_id}"


async def load_collection(conn: asyncpg.Connection, project: str, name: str) -> domain.Collection:
    return await snapshots.load(
        conn,
        collection_stream(project, name),
        kind="collection",
        state_type=domain.Collection,
        initial=domain.Collection(),
        evolve=domain.evolve,
        code=(domain,),
    )


async def apply_and_append(conn: asyncpg.Connection, appends: list[eventlog.Append]) -> None:
    # Read model first, append last: append takes the global lock, hold it as briefly as possible.
    for a in appends:
        for event in a.events:
            await projection.apply(conn, event)
    await eventlog.append(conn, appends)


# Unique constraints of the read model that another writer of the same collection or draft can hit
# first: the read model is written before the append (handlers keep the append lock short), so two
# racing commits meet here before the event log's stream version would refuse the later one. Any
# other unique violation is a bug or bad input that a retry would only repeat (a metadata path
# given twice used to fail 200 times in the metrics index): it is raised, not retried.
CONFLICT_CONSTRAINTS = frozenset(
    {
        "ingest_collections_pkey",  # two first commits of a new collection
        "ingest_versions_project_name_version_key",  # two commits taking the same next number
        "ingest_versions_label",  # two commits claiming one version label
        "ingest_links_pkey",  # two links taking the same link number
        "ingest_drafts_open_distributed",  # two first upserts of one distributed draft
        "ingest_drafts_request",  # two CreateDrafts with one request id (a retry racing its original)
    }
)


def is_conflict(exc: Exception) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return exc.constraint_name in CONFLICT_CONSTRAINTS
    return isinstance(exc, (Conflict, asyncpg.DeadlockDetectedError, asyncpg.SerializationError))


async def retrying(pool: asyncpg.Pool, attempt):
    """Runs `attempt(conn)` in a transaction, again on optimistic-concurrency conflicts only."""
    for n in range(COMMIT_ATTEMPTS):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await attempt(conn)
        except (
            Conflict,
            asyncpg.UniqueViolationError,
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
        ) as exc:
            if not is_conflict(exc):
                raise
            await asyncio.sleep(random.uniform(0, min(0.002 * (n + 1), 0.05)))
    raise Conflict("too much contention on this artifact; try again")


async def find_draft(conn: asyncpg.Connection, draft_id: str, lock: str = "") -> asyncpg.Record:
    row = await conn.fetchrow(f"SELECT * FROM ingest_drafts WHERE draft_id = $1 {lock}", draft_id)
    if row is None:
        raise NotFound(f"draft {draft_id!r} not found")
    return row


async def open_draft(conn: asyncpg.Connection, draft_id: str, lock: str = "") -> asyncpg.Record:
    """The draft, which must still accept changes."""
    row = await find_draft(conn, draft_id, lock)
    if row["committed_version_id"]:
        raise FailedPrecondition(f"draft {draft_id} is already committed")
    if row["aborted"]:
        raise FailedPrecondition(f"draft {draft_id} was aborted")
    return row


@dataclass(frozen=True, slots=True)
class CommitOptions:
    """What a commit adds to the draft's content, validated once before any retry."""

    metadata: dict[str, Any]
    description: str
    aliases: tuple[str, ...]
    tags: tuple[str, ...]
    label: str
    run_id: str = ""

    @classmethod
    def checked(
        cls, metadata: dict[str, Any], description: str, aliases: list[str], tags: list[str], label: str, run_id: str
    ):
        if label:
            check_label(label)
        check_json_value(metadata)  # the gateway checked it; a service trusts no caller
        if run_id and not RUN_ID_RE.fullmatch(run_id):
            raise InvalidArgument(f"invalid run id {run_id!r}")
        return cls(
            run_id=run_id,
            metadata=metadata_paths.expand(metadata),  # dotted keys are paths, as in every update
            description=check_description(description),
            aliases=tuple(check_list(aliases, check_alias, "aliases", MAX_ALIASES)),
            tags=tuple(check_list(tags, check_tag, "tags", MAX_TAGS)),
            label=label,
        )


async def commit(conn: asyncpg.Connection, draft: asyncpg.Record, options: CommitOptions) -> api.Committed:
    """Commits a locked, open draft: the next version, or the existing one with identical content."""
    draft_id = draft["draft_id"]
    rows = await conn.fetch("SELECT path, digest, size FROM ingest_draft_entries WHERE draft_id = $1", draft_id)
    entries = [(r["path"], r["digest"], r["size"]) for r in rows]
    entries += await references.manifest_tokens(conn, draft_id, {e[0] for e in entries})
    conflicts = file_folder_conflicts([e[0] for e in entries])
    if conflicts:
        file, below = conflicts[0]
        raise FailedPrecondition(f"{file!r} is a file, so {below!r} cannot be in the same version")
    project, name = draft["project"], draft["name"]
    state = await load_collection(conn, project, name)
    decision = domain.decide_commit(
        state,
        domain.CommitVersion(
            project=project,
            name=name,
            type=draft["type"],
            version_id=uuid.uuid4().hex,
            draft_id=draft_id,
            manifest_digest=manifest_digest(entries),
            file_count=len(entries),
            total_size=sum(e[2] for e in entries),
            metadata=options.metadata,
            description=options.description,
            aliases=options.aliases,
            tags=options.tags,
            label=options.label,
            now=time.time(),
            run_id=options.run_id,
        ),
    )
    done = DraftCommitted(draft_id=draft_id, version_id=decision.version_id, created=decision.created)
    appends = [eventlog.Append(draft_stream(draft_id), [done], None)]
    if decision.events:
        appends.insert(0, eventlog.Append(collection_stream(project, name), decision.events, state.stream_version))
    await apply_and_append(conn, appends)
    view = await queries.version_by_id(conn, decision.version_id)
    return api.Committed(version=view, created=decision.created)


async def append_files(conn: asyncpg.Connection, draft_id: str, entries: dict[str, tuple[str, str, int]]) -> None:
    """Adds checked entries (see check_entries) to an open, locked draft: DraftFilesAdded events."""
    if entries:
        events = files_added(draft_id, list(entries.values()))
        await apply_and_append(conn, [eventlog.Append(draft_stream(draft_id), list(events), None)])


def files_added(draft_id: str, entries: list[tuple[str, str, int]]) -> list[DraftFilesAdded]:
    """The DraftFilesAdded events of these entries, in order, each of a size the event log takes."""
    now = time.time()
    parts = eventlog.split_items(entries, lambda e: len(e[0].encode()) + len(e[1]) + ENTRY_OVERHEAD)
    return [DraftFilesAdded(draft_id=draft_id, entries=part, added_at=now) for part in parts]


class IngestHandlers:
    def __init__(self, pool: asyncpg.Pool, rpc: RpcClient) -> None:
        self.pool = pool
        self.rpc = rpc

    async def create_draft(self, cmd: api.CreateDraft) -> api.DraftCreatedReply:
        check_name(cmd.project, "project")
        check_name(cmd.name)
        if not cmd.base_ref:  # with a base, an empty type means the base's type
            check_type(cmd.type)
        draft_requests.check_request_id(cmd.request_id)

        async def attempt(conn: asyncpg.Connection) -> str:
            if cmd.base_ref:
                # The draft will reference every blob of the base: no sweep may delete any of them
                # between resolving the base (refused if deleted) and this commit (blob_locks.py).
                await blob_locks.hold_shared(conn, None)
            earlier = await draft_requests.draft_of_request(conn, cmd)
            if earlier is not None:  # a retry: the answer to the first request was lost
                return earlier
            draft_id = uuid.uuid4().hex
            base_id, type_ = await incremental.resolve_base(conn, cmd) if cmd.base_ref else ("", cmd.type)
            event = DraftCreated(
                draft_id=draft_id,
                project=cmd.project,
                name=cmd.name,
                type=type_,
                created_at=time.time(),
                base_version_id=base_id,
                request_id=cmd.request_id,
            )
            await apply_and_append(conn, [eventlog.Append(draft_stream(draft_id), [event], 0)])
            return draft_id

        # Two requests racing with one id: the unique index fails the second insert, which retries.
        return api.DraftCreatedReply(draft_id=await retrying(self.pool, attempt))

    async def check_entries(self, raw: list[tuple[str, str, int]]) -> dict[str, tuple[str, str, int]]:
        """Validates entries (no I/O); the last entry of a path wins. See hold_blobs."""
        if len(raw) > MAX_FILES_PER_CALL:
            raise InvalidArgument(f"at most {MAX_FILES_PER_CALL} files per call")
        entries: dict[str, tuple[str, str, int]] = {}
        for path, digest, size in raw:
            check_path(path)
            check_digest(digest)
            check_size(size)
            entries[path] = (path, digest, size)
        return entries

    async def hold_blobs(self, conn: asyncpg.Connection, entries: dict[str, tuple[str, str, int]]) -> None:
        """First in a transaction that adds these entries to a draft: takes the blobs' locks (shared,
        until the transaction ends, so no GC sweep deletes them meanwhile), then checks that each blob
        is stored with that size. A blob a sweep deleted before is refused here, never referenced.
        While a sweep holds some of the locks this raises BlobsBusy (a Conflict: `retrying` rolls
        back and runs the attempt again). Call it before any row lock."""
        if not entries:
            return
        digests = sorted({e[1] for e in entries.values()})
        await blob_locks.hold_shared(conn, digests)
        # "lease", not "stat": it also renews the lease of blobs a client relies on.
        stored = await self.rpc.call(HASHING.lease, api.StatBlobs(digests))
        sizes = {b.digest: b.size for b in stored.blobs}
        for path, digest, size in entries.values():
            if digest not in sizes:
                raise FailedPrecondition(f"{path}: blob {digest} is not stored; upload it before adding the file")
            if sizes[digest] != size:
                raise InvalidArgument(f"{path}: blob {digest} has {sizes[digest]} bytes, not {size}")

    async def add_files(self, cmd: api.AddFiles) -> api.FileCount:
        entries = await self.check_entries(cmd.entries)

        async def attempt(conn: asyncpg.Connection) -> api.FileCount:
            await self.hold_blobs(conn, entries)  # BlobsBusy (a sweep is at them): retried
            # Adds to one draft take turns on its row (each also updates it: two FOR SHARE holders
            # upgrading to an update deadlock), a commit (FOR UPDATE) waits for them, and an add that
            # waited for a commit sees the committed row and stops. Their blob checks above overlap.
            draft = await open_draft(conn, cmd.draft_id, "FOR NO KEY UPDATE")
            await append_files(conn, draft["draft_id"], entries)
            count = await conn.fetchval("SELECT count(*) FROM ingest_draft_entries WHERE draft_id = $1", cmd.draft_id)
            return api.FileCount(file_count=count)

        return await retrying(self.pool, attempt)

    async def commit_draft(self, cmd: api.CommitDraft) -> api.Committed:
        options = CommitOptions.checked(cmd.metadata, cmd.description, cmd.aliases, cmd.tags, cmd.label, cmd.run_id)
        entries = await self.check_entries(cmd.entries)  # the files sent with the commit, as add_files

        async def attempt(conn: asyncpg.Connection) -> api.Committed:
            await self.hold_blobs(conn, entries)
            draft = await find_draft(conn, cmd.draft_id, "FOR UPDATE")
            if draft["committed_version_id"]:  # a retried commit gets the same answer
                view = await queries.version_by_id(conn, draft["committed_version_id"])
                return api.Committed(version=view, created=await committed_created(conn, cmd.draft_id))
            if draft["aborted"]:
                raise FailedPrecondition(f"draft {cmd.draft_id} was aborted")
            await append_files(conn, cmd.draft_id, entries)  # in the commit's transaction: a refused commit adds none
            return await commit(conn, draft, options)

        return await retrying(self.pool, attempt)

    async def assign_aliases(self, cmd: api.AssignAliases) -> api.VersionView:
        aliases = tuple(check_list(cmd.aliases, check_alias, "aliases", MAX_ALIASES))

        async def attempt(conn: asyncpg.Connection) -> api.VersionView:
            target = await queries.resolve(conn, cmd.ref)
            refs.refuse_link(cmd.ref, target.project, target.name, target.version)
            state = await load_collection(conn, target.project, target.name)
            events: list[Event] = domain.decide_aliases(state, target.version_id, aliases, target.project, target.name)
            if events:
                stream = collection_stream(target.project, target.name)
                await apply_and_append(conn, [eventlog.Append(stream, events, state.stream_version)])
            return await queries.version_by_id(conn, target.version_id)

        return await retrying(self.pool, attempt)
