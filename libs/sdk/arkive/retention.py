"""Deleting, TTLs, retention policies, garbage collection and the storage report (the async
implementation; Client wraps it in _sync_retention.py).

    await client.delete("demo/model:v3")                      # soft: undeletable within the grace window
    await client.set_ttl("demo/model:v4", timedelta(days=30))
    await client.put_policy("last5", project="demo", keep_last=5)
    plan = await client.retention_plan("demo")                 # dry run: what would go, and why
    await client.retention_apply("demo")

Every result is a small frozen dataclass with to_dict() (durations in seconds, for JSON).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from arkive_common.errors import InvalidArgument
from arkive_common.validation import check_digest, check_name, check_type
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc

from .runs import _timestamp
from .version import ArtifactVersion

INHERIT = "inherit"
"""set_ttl(ref, INHERIT): the version follows its project's default TTL again."""

DEFAULT_GC_GRACE = timedelta(days=1)
GC_TIMEOUT = 3600.0  # a sweep over many blobs takes a while
REPORT_TIMEOUT = 600.0  # the storage report runs a GC dry run

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """ "30d", "12h", "15m", "90s", "2w" or a combination such as "1d12h" (whole units, > 0)."""
    s = text.strip().lower()
    if not s or _DURATION.sub("", s):
        raise InvalidArgument(f"invalid duration {text!r}: use e.g. 30d, 12h, 15m or 90s")
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(s))
    if seconds <= 0:
        raise InvalidArgument(f"invalid duration {text!r}: must be more than zero")
    return timedelta(seconds=seconds)


def format_duration(seconds: float) -> str:
    """The shortest exact "30d" / "1d12h" / "90s" form of a number of seconds."""
    s = int(seconds)
    if s <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        n, s = divmod(s, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def _whole_seconds(ttl: timedelta, what: str) -> int:
    if not isinstance(ttl, timedelta):
        raise InvalidArgument(f"{what} must be a timedelta, got {type(ttl).__name__}")
    if ttl.total_seconds() <= 0:
        raise InvalidArgument(f"{what} must be positive (use None for no expiry)")
    return math.ceil(ttl.total_seconds())


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _ToDict:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class VersionChange(_ToDict):
    version_id: str
    version: int


@dataclass(frozen=True, slots=True)
class SkippedVersion(_ToDict):
    version_id: str
    version: int
    reason: str  # "already deleted", "held by alias production", ...


@dataclass(frozen=True, slots=True)
class DeleteResult(_ToDict):
    """What a delete changed: the versions deleted and those left alone (with why)."""

    deleted: tuple[VersionChange, ...]
    skipped: tuple[SkippedVersion, ...] = ()


@dataclass(frozen=True, slots=True)
class UndeleteResult(_ToDict):
    undeleted: tuple[VersionChange, ...]


@dataclass(frozen=True, slots=True)
class RetentionPolicy(_ToDict):
    """Keep the newest `keep_last` and/or the best `keep_best` by `metric` (mode "max" or "min") of each
    collection; with `max_age`, only versions older than that are deleted (alone: every older one is)."""

    project: str
    name: str
    type: str = ""  # only collections of this type ("" = every type)
    name_pattern: str = ""  # fnmatch pattern on collection names ("" = every name)
    keep_last: int = 0
    keep_best: int = 0
    metric: str = ""
    mode: str = "max"
    max_age: timedelta | None = None
    manual: bool = False  # applied only by retention_apply, never by the server's schedule

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "max_age"}
        d["max_age_seconds"] = int(self.max_age.total_seconds()) if self.max_age else 0
        return d


@dataclass(frozen=True, slots=True)
class PolicyList(_ToDict):
    project: str
    policies: tuple[RetentionPolicy, ...]
    default_ttls: dict[str, timedelta]  # type ("" = every type) -> default TTL

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "policies": [p.to_dict() for p in self.policies],
            "default_ttls": {t: int(d.total_seconds()) for t, d in self.default_ttls.items()},
        }


@dataclass(frozen=True, slots=True)
class PlannedDeletion(_ToDict):
    project: str
    name: str
    version_id: str
    version: int
    reasons: tuple[str, ...]  # "policy last2: not among the 2 newest", "ttl 1h passed", ...


@dataclass(frozen=True, slots=True)
class RetentionPlan(_ToDict):
    """A dry run. `deletions` lists at most the requested limit; `total_deletions` counts them all."""

    project: str
    deletions: tuple[PlannedDeletion, ...]
    protected_versions: int  # a rule would delete them, but an alias other than latest protects them
    total_deletions: int


@dataclass(frozen=True, slots=True)
class ApplyResult(_ToDict):
    project: str
    deleted: int
    skipped: tuple[SkippedVersion, ...]


@dataclass(frozen=True, slots=True)
class GcResult(_ToDict):
    sweep_id: str
    dry_run: bool
    blobs_total: int
    bytes_total: int
    blobs_unreferenced: int
    blobs_deleted: int
    bytes_freed: int  # with dry_run: what would be freed
    staging_deleted: int
    pending_purged: int
    seconds: float
    packs_repacked: int = 0
    blobs_repacked: int = 0
    bytes_repacked: int = 0


@dataclass(frozen=True, slots=True)
class CollectionStorage(_ToDict):
    project: str
    name: str
    versions: int
    deleted_versions: int
    logical_bytes: int  # sum of the live versions' sizes
    referenced_bytes: int  # distinct blobs the live versions reference


@dataclass(frozen=True, slots=True)
class StorageReport(_ToDict):
    project: str  # "" = every project
    blobs_stored: int
    bytes_stored: int
    collections: tuple[CollectionStorage, ...]
    reclaimable_blobs: int  # what a GC with the default grace would free now
    reclaimable_bytes: int


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


class RetentionMixin:
    """Retention methods of AsyncClient (deletes, TTLs, policies, GC, storage)."""

    @property
    def _retention(self) -> rgrpc.RetentionServiceStub:
        return rgrpc.RetentionServiceStub(self._ch())  # type: ignore[attr-defined]

    def _project(self, project: str | None) -> str:
        return check_name(project or self.project, "project")  # type: ignore[attr-defined]

    async def _long(self, method: Any, request: Any, timeout: float) -> Any:
        # Slow calls (plans, sweeps, reports) get a long deadline; not retried: a retry would redo
        # minutes of work, and the caller can simply run them again.
        return await self._call(method, request, timeout=max(timeout, self.timeout))  # type: ignore[attr-defined]

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
            ref=self._ref(ref),  # type: ignore[attr-defined]
            delete_aliases=delete_aliases,
            purge=purge,
            confirm=purge,
        )
        resp = await self._call(self._retention.DeleteVersion, request)  # type: ignore[attr-defined]
        return DeleteResult(_changes(resp.deleted), _skipped(resp.skipped))

    async def delete_collection(
        self, name: str, project: str | None = None, *, delete_aliases: bool = False, purge: bool = False
    ) -> DeleteResult:
        """Soft-deletes every version of the collection "[project/]name" (see delete)."""
        from ._local import split_name as _split_name

        project, name = _split_name(name, project or self.project)  # type: ignore[attr-defined]
        request = rpb.DeleteCollectionRequest(
            project=project, name=name, delete_aliases=delete_aliases, purge=purge, confirm=purge
        )
        resp = await self._call(self._retention.DeleteCollection, request)  # type: ignore[attr-defined]
        return DeleteResult(_changes(resp.deleted), _skipped(resp.skipped))

    async def undelete(self, ref: str | ArtifactVersion) -> UndeleteResult:
        """Restores a deleted version (ref: version id, "[project/]name:vN" or a label) within the grace
        window; aliases removed by the delete are not restored. Not deleted: FailedPrecondition."""
        request = rpb.UndeleteVersionRequest(ref=self._ref(ref))  # type: ignore[attr-defined]
        resp = await self._call(self._retention.UndeleteVersion, request)  # type: ignore[attr-defined]
        return UndeleteResult(_changes(resp.undeleted))

    async def undelete_collection(self, name: str, project: str | None = None) -> UndeleteResult:
        """Restores every version of "[project/]name" deleted within the grace window."""
        from ._local import split_name as _split_name

        project, name = _split_name(name, project or self.project)  # type: ignore[attr-defined]
        request = rpb.UndeleteCollectionRequest(project=project, name=name)
        resp = await self._call(self._retention.UndeleteCollection, request)  # type: ignore[attr-defined]
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
            seconds = _whole_seconds(ttl, "ttl")  # type: ignore[arg-type]
        request = rpb.SetVersionTtlRequest(ref=self._ref(ref), ttl_seconds=seconds)  # type: ignore[attr-defined]
        await self._call_idempotent(self._retention.SetVersionTtl, request)  # type: ignore[attr-defined]

    async def set_default_ttl(self, project: str | None, ttl: timedelta | None, type: str | None = None) -> None:
        """Sets the default TTL of a project's versions of `type` (None: of every type); a version's own
        TTL wins. ttl=None removes the default."""
        seconds = 0 if ttl is None else _whole_seconds(ttl, "ttl")
        request = rpb.SetDefaultTtlRequest(
            project=self._project(project), type=check_type(type) if type else "", ttl_seconds=seconds
        )
        await self._call_idempotent(self._retention.SetDefaultTtl, request)  # type: ignore[attr-defined]

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
        resp = await self._call_idempotent(self._retention.PutPolicy, rpb.PutPolicyRequest(policy=policy))  # type: ignore[attr-defined]
        return policy_from_proto(resp.policy)

    async def remove_policy(self, name: str, project: str | None = None) -> None:
        """Removes the policy `name` of a project."""
        request = rpb.RemovePolicyRequest(project=self._project(project), name=check_name(name, "policy name"))
        await self._call(self._retention.RemovePolicy, request)  # type: ignore[attr-defined]

    async def policies(self, project: str | None = None) -> PolicyList:
        """The retention policies and default TTLs of a project."""
        project = self._project(project)
        resp = await self._call_idempotent(self._retention.ListPolicies, rpb.ListPoliciesRequest(project=project))  # type: ignore[attr-defined]
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
        return RetentionPlan(project, deletions, int(resp.protected_versions), int(resp.total_deletions))

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
