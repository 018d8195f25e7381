"""Deleting, TTLs, retention policies, garbage collection and the storage report
(an AsyncClient feature; Client's blocking methods are generated from it).

    await client.delete("demo/model:v3")                      # soft: undeletable within the grace window
    await client.set_ttl("demo/model:v4", timedelta(days=30))
    await client.put_policy("last5", project="demo", keep_last=5)
    plan = await client.retention_plan("demo")                 # dry run: what would go, and why
    await client.retention_apply("demo")

Every result is a small frozen dataclass with to_dict() (durations in seconds, for JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest, check_name, check_type

from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc

from ._feature import Feature
from ._retention_types import (  # re-exported: arkive.retention is where users find them
    DEFAULT_GC_GRACE,
    GC_TIMEOUT,
    INHERIT,
    REPORT_TIMEOUT,
    ApplyResult,
    CollectionStorage,
    DeleteResult,
    GcResult,
    PlannedDeletion,
    PolicyList,
    ProtectedVersion,
    RetentionPlan,
    RetentionPolicy,
    SkippedVersion,
    StorageReport,
    UndeleteResult,
    VersionChange,
    _whole_seconds,
    format_duration,
    parse_duration,
)

__all__ = [
    "DEFAULT_GC_GRACE",
    "GC_TIMEOUT",
    "INHERIT",
    "REPORT_TIMEOUT",
    "ApplyResult",
    "CollectionStorage",
    "DeleteResult",
    "GcResult",
    "PlannedDeletion",
    "PolicyList",
    "ProtectedVersion",
    "Retention",
    "RetentionPlan",
    "RetentionPolicy",
    "SkippedVersion",
    "StorageReport",
    "UndeleteResult",
    "VersionChange",
    "format_duration",
    "parse_duration",
]
from .runs import _timestamp
from .version import ArtifactVersion


def _changes(items: Sequence[rpb.VersionChange]) -> tuple[VersionChange, ...]:
    return tuple(VersionChange(c.version_id, int(c.version)) for c in items)


def _skipped(items: Sequence[rpb.SkippedVersion]) -> tuple[SkippedVersion, ...]:
    return tuple(SkippedVersion(s.version_id, int(s.version), s.reason) for s in items)


def policy_from_proto(p: rpb.RetentionPolicy) -> RetentionPolicy:
    return RetentionPolicy(
        project=p.project,
        name=p.name,
        type=p.type,
        name_pattern=p.name_pattern,
        keep_last=int(p.keep_last),
        keep_best=int(p.keep_best),
        metric=p.metric,
        mode=p.mode or "max",
        max_age=timedelta(seconds=p.max_age_seconds) if p.max_age_seconds else None,
        manual=p.manual,
    )


class Retention(Feature):
    """Retention methods of AsyncClient (deletes, TTLs, policies, GC, storage)."""

    @property
    def _retention(self) -> rgrpc.RetentionServiceStub:
        return rgrpc.RetentionServiceStub(self._ch())

    def _project(self, project: str | None) -> str:
        return check_name(project or self.project, "project")

    async def _long(self, method: Any, request: Any, timeout: float) -> Any:
        # Slow calls (plans, sweeps, reports) get a long deadline; not retried: a retry would redo
        # minutes of work, and the caller can simply run them again.
        return await self._call(method, request, timeout=max(timeout, self.timeout))

    # ---- deletes ----------------------------------------------------------------------------

    async def delete(
        self, ref: str | ArtifactVersion, *, delete_aliases: bool = False, purge: bool = False
    ) -> DeleteResult:
        """Soft-deletes the version `ref` resolves to: hidden from every read, `latest` moves back to
        the newest remaining version, undeletable within the server's grace window.

        A version holding an alias other than latest is refused (FailedPrecondition) unless
        delete_aliases=True, which removes those aliases too. purge=True is irrevocable: no undelete,
        and garbage collection may free the bytes at once.
        """
        # The server asks purges for confirm=true: calling delete(purge=True) is that confirmation.
        request = rpb.DeleteVersionRequest(
            ref=self._ref(ref),
            delete_aliases=delete_aliases,
            purge=purge,
            confirm=purge,
        )
        resp = await self._call(self._retention.DeleteVersion, request)
        return DeleteResult(_changes(resp.deleted), _skipped(resp.skipped))

    async def delete_collection(
        self, name: str, project: str | None = None, *, delete_aliases: bool = False, purge: bool = False
    ) -> DeleteResult:
        """Soft-deletes every version of the collection "[project/]name" (see delete)."""
        from .engine.local import split_name as _split_name

        project, name = _split_name(name, project or self.project)
        request = rpb.DeleteCollectionRequest(
            project=project, name=name, delete_aliases=delete_aliases, purge=purge, confirm=purge
        )
        resp = await self._call(self._retention.DeleteCollection, request)
        return DeleteResult(_changes(resp.deleted), _skipped(resp.skipped))

    async def undelete(self, ref: str | ArtifactVersion) -> UndeleteResult:
        """Restores a deleted version (ref: version id, "[project/]name:vN" or a label) within the grace
        window; aliases removed by the delete are not restored. Not deleted: FailedPrecondition."""
        request = rpb.UndeleteVersionRequest(ref=self._ref(ref))
        resp = await self._call(self._retention.UndeleteVersion, request)
        return UndeleteResult(_changes(resp.undeleted))

    async def undelete_collection(self, name: str, project: str | None = None) -> UndeleteResult:
        """Restores every version of "[project/]name" deleted within the grace window."""
        from .engine.local import split_name as _split_name

        project, name = _split_name(name, project or self.project)
        request = rpb.UndeleteCollectionRequest(project=project, name=name)
        resp = await self._call(self._retention.UndeleteCollection, request)
        return UndeleteResult(_changes(resp.undeleted))

    # ---- TTLs and policies ------------------------------------------------------------------

    async def set_ttl(self, ref: str | ArtifactVersion, ttl: timedelta | Literal["inherit"] | None) -> None:
        """Sets how long after its commit a version expires (retention_apply then deletes it).

        ttl: a positive timedelta; None = never expire (even if the project has a default TTL);
        arkive.INHERIT ("inherit") = follow the project's default TTL again (the initial state).
        """
        if ttl == INHERIT:
            seconds = -1
        elif ttl is None:
            seconds = 0
        else:
            seconds = _whole_seconds(ttl, "ttl")
        request = rpb.SetVersionTtlRequest(ref=self._ref(ref), ttl_seconds=seconds)
        await self._call_idempotent(self._retention.SetVersionTtl, request)

    async def set_default_ttl(self, project: str | None, ttl: timedelta | None, type: str | None = None) -> None:
        """Sets the default TTL of a project's versions of `type` (None: of every type); a version's own
        TTL wins. ttl=None removes the default."""
        seconds = 0 if ttl is None else _whole_seconds(ttl, "ttl")
        request = rpb.SetDefaultTtlRequest(
            project=self._project(project), type=check_type(type) if type else "", ttl_seconds=seconds
        )
        await self._call_idempotent(self._retention.SetDefaultTtl, request)

    async def put_policy(
        self,
        name: str,
        project: str | None = None,
        *,
        type: str | None = None,
        name_pattern: str = "",
        keep_last: int = 0,
        keep_best: int = 0,
        metric: str = "",
        mode: Literal["max", "min"] = "max",
        max_age: timedelta | None = None,
        manual: bool = False,
    ) -> RetentionPolicy:
        """Creates or replaces the policy `name` of a project; returns it as stored.

        The server applies policies and TTLs by itself every ARKIVE_RETENTION_INTERVAL (default 1 h);
        manual=True leaves this policy's deletions to retention_apply (its keep rules still count).

        keep_last=N keeps the newest N versions of each collection, keep_best=N the best N by the
        metadata `metric` (dotted for nested keys; mode "max" or "min"); with max_age, only versions
        older than that are deleted (alone: every older version is). type / name_pattern (fnmatch)
        limit which collections it covers. Aliases other than latest always protect a version.
        """
        if mode not in ("max", "min"):
            raise InvalidArgument("mode is 'max' or 'min'")
        if min(keep_last, keep_best) < 0:
            raise InvalidArgument("keep_last and keep_best must not be negative")
        if keep_best and not metric:
            raise InvalidArgument("keep_best needs a metric (a metadata key such as accuracy or metrics.loss)")
        max_age_s = _whole_seconds(max_age, "max_age") if max_age is not None else 0
        if not (keep_last or keep_best or max_age_s):
            raise InvalidArgument("a policy needs keep_last, keep_best or max_age")
        policy = rpb.RetentionPolicy(
            project=self._project(project),
            name=check_name(name, "policy name"),
            type=check_type(type) if type else "",
            name_pattern=name_pattern,
            keep_last=keep_last,
            keep_best=keep_best,
            metric=metric,
            mode=mode,
            max_age_seconds=max_age_s,
            manual=manual,
        )
        resp = await self._call_idempotent(self._retention.PutPolicy, rpb.PutPolicyRequest(policy=policy))
        return policy_from_proto(resp.policy)

    async def remove_policy(self, name: str, project: str | None = None) -> None:
        """Removes the policy `name` of a project."""
        request = rpb.RemovePolicyRequest(project=self._project(project), name=check_name(name, "policy name"))
        await self._call(self._retention.RemovePolicy, request)

    async def policies(self, project: str | None = None) -> PolicyList:
        """The retention policies and default TTLs of a project."""
        project = self._project(project)
        resp = await self._call_idempotent(self._retention.ListPolicies, rpb.ListPoliciesRequest(project=project))
        ttls = {t: timedelta(seconds=s) for t, s in sorted(resp.default_ttls.items()) if s > 0}
        return PolicyList(project, tuple(policy_from_proto(p) for p in resp.policies), ttls)

    # ---- plan and apply ---------------------------------------------------------------------

    async def retention_plan(
        self, project: str | None = None, *, as_of: datetime | float | None = None, limit: int = 0
    ) -> RetentionPlan:
        """Dry run: what the project's TTLs and policies would delete now (or at as_of), with reasons.
        limit: list at most this many (0: the server's 1,000; at most 5,000)."""
        project = self._project(project)
        if not 0 <= limit <= 5000:
            raise InvalidArgument("limit must be between 0 and 5000")
        request = rpb.PlanRetentionRequest(project=project, limit=limit)
        if as_of is not None:
            request.as_of.CopyFrom(_timestamp(as_of))
        resp = await self._long(self._retention.PlanRetention, request, 120)
        deletions = tuple(
            PlannedDeletion(d.project, d.name, d.version_id, int(d.version), tuple(d.reasons)) for d in resp.deletions
        )
        protected = tuple(
            ProtectedVersion(p.project, p.name, p.version_id, int(p.version), tuple(p.reasons), tuple(p.aliases))
            for p in resp.protected
        )
        return RetentionPlan(project, deletions, int(resp.protected_versions), int(resp.total_deletions), protected)

    async def retention_apply(
        self, project: str | None = None, *, as_of: datetime | float | None = None
    ) -> ApplyResult:
        """Deletes what retention_plan lists (soft deletes, undeletable within the grace window)."""
        project = self._project(project)
        request = rpb.ApplyRetentionRequest(project=project)
        if as_of is not None:
            request.as_of.CopyFrom(_timestamp(as_of))
        resp = await self._long(self._retention.ApplyRetention, request, 600)
        return ApplyResult(project, int(resp.deleted), _skipped(resp.skipped))

    # ---- bytes ------------------------------------------------------------------------------

    async def collect_garbage(
        self,
        grace: timedelta = DEFAULT_GC_GRACE,
        dry_run: bool = False,
        *,
        digests: Sequence[str] = (),
        skip_staging: bool = False,
        repack: bool = False,
        repack_read_grace: timedelta | None = None,
    ) -> GcResult:
        """Mark and sweep of the blobs no live version, recently deleted version or open draft
        references, across every project. Blobs stored or leased within `grace` (and younger staging
        objects) are kept: it must exceed the longest upload. dry_run only reports what would be
        freed; digests limits the sweep to those blobs. repack then rewrites packs whose live
        bytes fell below half (their old objects are deleted repack_read_grace later, default 1 h)."""
        if not isinstance(grace, timedelta) or grace.total_seconds() < 0:
            raise InvalidArgument("grace must be a non-negative timedelta")
        for d in digests:
            check_digest(d)
        request = rpb.CollectGarbageRequest(
            grace_seconds=grace.total_seconds(),
            dry_run=dry_run,
            digests=list(digests),
            skip_staging=skip_staging,
            confirm=not dry_run,  # calling collect_garbage is the confirmation the server asks for
        )
        if repack:
            request.repack = True
            if repack_read_grace is not None:
                request.repack_read_grace_seconds = repack_read_grace.total_seconds()
        resp = await self._long(self._retention.CollectGarbage, request, GC_TIMEOUT)
        return GcResult(
            sweep_id=resp.sweep_id,
            dry_run=dry_run,
            blobs_total=int(resp.blobs_total),
            bytes_total=int(resp.bytes_total),
            blobs_unreferenced=int(resp.blobs_unreferenced),
            blobs_deleted=int(resp.blobs_deleted),
            bytes_freed=int(resp.bytes_freed),
            staging_deleted=int(resp.staging_deleted),
            pending_purged=int(resp.pending_purged),
            seconds=float(resp.seconds),
            packs_repacked=int(resp.packs_repacked),
            blobs_repacked=int(resp.blobs_repacked),
            bytes_repacked=int(resp.bytes_repacked),
        )

    async def storage(self, project: str | None = None) -> StorageReport:
        """Bytes stored, bytes referenced per collection (of one project, or of every project when
        None), and what garbage collection would free now."""
        project = check_name(project, "project") if project else ""
        resp = await self._long(
            self._retention.GetStorageReport, rpb.GetStorageReportRequest(project=project), REPORT_TIMEOUT
        )
        cols = tuple(
            CollectionStorage(
                c.project,
                c.name,
                int(c.versions),
                int(c.deleted_versions),
                int(c.logical_bytes),
                int(c.referenced_bytes),
            )
            for c in resp.collections
        )
        return StorageReport(
            project=project,
            blobs_stored=int(resp.blobs_stored),
            bytes_stored=int(resp.bytes_stored),
            collections=cols,
            reclaimable_blobs=int(resp.reclaimable_blobs),
            reclaimable_bytes=int(resp.reclaimable_bytes),
        )
