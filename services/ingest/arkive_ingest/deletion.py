"""Deleting and undeleting versions: commands on a collection, so ingest handles them like every
other change of a collection: load the stream, decide, apply the read model, append at the
stream's expected version (a concurrent commit or alias move makes the append conflict; we retry
with the new state, so an alias assigned meanwhile still protects its version)."""

from __future__ import annotations

import os
import time

import asyncpg
from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.validation import check_name

from arkive_common import api_retention as ra
from arkive_common import blob_locks, eventlog
from arkive_common.events import VersionsUndeleted

from . import domain_deletion, registry_guard, tombstones
from .handlers import apply_and_append, collection_stream, load_collection, retrying

DEFAULT_UNDELETE_GRACE = 7 * 86_400.0
CLOCK_MARGIN = 60.0


def undelete_grace() -> float:
    """Seconds a deleted version can be undeleted; GC keeps its bytes that long
    (ARKIVE_UNDELETE_GRACE_SECONDS, default 7 days)."""
    value = os.environ.get("ARKIVE_UNDELETE_GRACE_SECONDS", "")
    return float(value) if value else DEFAULT_UNDELETE_GRACE


def _result(decision: domain_deletion.DeleteDecision) -> ra.DeleteResult:
    return ra.DeleteResult(
        deleted=[ra.VersionRef(v.version_id, v.version) for v in decision.deleted],
        skipped=[ra.SkippedVersion(v.version_id, v.version, why) for v, why in decision.skipped],
    )


class DeletionHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.grace = undelete_grace()

    async def _change(self, project: str, name: str, decide, *, restores: bool = False) -> ra.DeleteResult:
        check_name(project, "project")
        check_name(name)

        async def attempt(conn: asyncpg.Connection) -> ra.DeleteResult:
            if restores:
                # An undelete references the version's blobs again: it takes turns with GC sweeps
                # (blob_locks.py), so a sweep that found the version past its grace has committed
                # before the decision below reads the clock and refuses, and a sweep after this
                # commit sees the version live. Without it, an undelete decided just inside the
                # grace and committed late could restore files whose bytes a sweep just freed.
                await blob_locks.hold_shared(conn, None)  # BlobsBusy: `retrying` runs it again
            state = await load_collection(conn, project, name)
            if not state.exists:
                raise NotFound(f"artifact {project}/{name} not found")
            decision, registries = await decide(conn, state)
            if decision.events:
                stream = collection_stream(project, name)
                own = [eventlog.Append(stream, decision.events, state.stream_version)]
                # The registries linking these versions change in the same transaction.
                if any(isinstance(e, VersionsUndeleted) for e in decision.events):
                    restored = {v.version_id for v in decision.deleted}
                    others = await registry_guard.appends(conn, registries, restored=restored)
                else:
                    deleted = {v.version_id for v in decision.deleted}
                    others = await registry_guard.appends(conn, registries, deleted=deleted)
                await apply_and_append(conn, own + others)
            return _result(decision)

        return await retrying(self.pool, attempt)

    async def delete(self, cmd: ra.DeleteVersions) -> ra.DeleteResult:
        if not cmd.version_ids and not cmd.whole_collection:
            raise InvalidArgument("name the versions to delete or ask for the whole collection")

        async def decide(conn, state):
            ids = [v.version_id for v in state.versions] if cmd.whole_collection else cmd.version_ids
            registries = await registry_guard.load(conn, ids, (cmd.project, cmd.name))
            return domain_deletion.decide_delete(
                state,
                ids,
                project=cmd.project,
                name=cmd.name,
                delete_aliases=cmd.delete_aliases,
                skip_protected=cmd.skip_protected,
                reason=cmd.reason[:200],
                now=time.time(),
                purge=cmd.purge,
                linked_aliases=registry_guard.linked_aliases(registries),
            ), registries

        return await self._change(cmd.project, cmd.name, decide)

    async def undelete(self, cmd: ra.UndeleteVersions) -> ra.DeleteResult:
        async def decide(conn, state):
            now = time.time()
            if cmd.whole_collection:  # what is still within the grace window comes back
                ids = [
                    v.version_id
                    for v in state.versions
                    if v.deleted_at and not v.purged and now - v.deleted_at <= self.grace
                ]
            else:
                ids = cmd.version_ids
            registries = await registry_guard.load(conn, ids, (cmd.project, cmd.name))
            decision = domain_deletion.decide_undelete(
                state, ids, project=cmd.project, name=cmd.name, now=now, grace=self.grace
            )
            return decision, registries

        return await self._change(cmd.project, cmd.name, decide, restores=True)

    async def resolve_any(self, q: ra.ResolveAny) -> ra.ResolvedRef:
        return await tombstones.resolve_any(self.pool, q.ref)

    async def referenced(self, q: ra.Digests) -> ra.Digests:
        # The margin covers clock skew between this process (deleted_at) and PostgreSQL (now()).
        return ra.Digests(await tombstones.referenced(self.pool, q.digests, self.grace + CLOCK_MARGIN))

    async def usage(self, q: ra.StorageUsage) -> ra.UsageReport:
        return await tombstones.usage(self.pool, q.project)
