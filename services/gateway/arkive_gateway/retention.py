"""RetentionService: deletion (ingest), TTLs/policies/plans (retention), GC and storage (hashing)."""

from __future__ import annotations

import asyncio
import math

from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.limits import MAX_KEY_CHARS, check_text
from arkive_core.refs import parse_ref, refuse_link
from arkive_core.validation import check_digest, check_name

from arkive_common import api
from arkive_common import api_retention as ra
from arkive_common.contracts import INGEST, RETENTION
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import retention_service_pb2 as pb
from arkive_proto.v1 import retention_service_pb2_grpc as pb_grpc

from . import convert
from .errors import unary
from .gc import collect_garbage

DEFAULT_GRACE = 86_400.0


def _changes(refs: list[ra.VersionRef]) -> list[pb.VersionChange]:
    return [pb.VersionChange(version_id=r.version_id, version=r.version) for r in refs]


def _skipped(items: list[ra.SkippedVersion]) -> list[pb.SkippedVersion]:
    return [pb.SkippedVersion(version_id=s.version_id, version=s.version, reason=s.why) for s in items]


def _confirmed_purge(request, what: str) -> None:
    """A purge is irrevocable: a request that lost its fields on the way must not be one."""
    if request.purge and not request.confirm:
        raise InvalidArgument(f"purging {what} requires confirm=true; nothing was deleted")


def _as_of(request) -> float:
    return request.as_of.ToSeconds() + request.as_of.nanos / 1e9 if request.HasField("as_of") else 0.0


def policy_to_pb(p: ra.Policy) -> pb.RetentionPolicy:
    return pb.RetentionPolicy(
        project=p.project,
        name=p.name,
        type=p.type,
        name_pattern=p.name_pattern,
        keep_last=p.keep_last,
        keep_best=p.keep_best,
        metric=p.metric,
        mode=p.mode,
        max_age_seconds=p.max_age_seconds,
        manual=p.manual,
    )


class RetentionServicer(pb_grpc.RetentionServiceServicer):
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    async def _resolve(self, ref: str) -> ra.ResolvedRef:
        parse_ref(ref)
        return await self.rpc.call(INGEST.resolve_any, ra.ResolveAny(ref))

    async def _delete(self, cmd: ra.DeleteVersions) -> ra.DeleteResult:
        return await self.rpc.call(INGEST.delete_versions, cmd)

    @unary
    async def DeleteVersion(self, request: pb.DeleteVersionRequest, context) -> pb.DeleteVersionResponse:
        _confirmed_purge(request, request.ref)
        # Resolve first (the alias or vN names one version), then delete that version by id.
        v = await self.rpc.call(INGEST.get_version, api.GetVersion(request.ref))
        refuse_link(request.ref, v.project, v.name, v.version)  # the roles checked were the registry's
        result = await self._delete(
            ra.DeleteVersions(
                v.project, v.name, [v.version_id], delete_aliases=request.delete_aliases, purge=request.purge
            )
        )
        return pb.DeleteVersionResponse(deleted=_changes(result.deleted), skipped=_skipped(result.skipped))

    @unary
    async def DeleteCollection(self, request: pb.DeleteCollectionRequest, context) -> pb.DeleteCollectionResponse:
        _confirmed_purge(request, f"{request.project}/{request.name}")
        cmd = ra.DeleteVersions(
            request.project,
            request.name,
            whole_collection=True,
            delete_aliases=request.delete_aliases,
            purge=request.purge,
        )
        result = await self._delete(cmd)
        return pb.DeleteCollectionResponse(deleted=_changes(result.deleted), skipped=_skipped(result.skipped))

    @unary
    async def UndeleteVersion(self, request: pb.UndeleteVersionRequest, context) -> pb.UndeleteVersionResponse:
        v = await self._resolve(request.ref)
        refuse_link(request.ref, v.project, v.name, v.version)
        if not v.deleted:
            raise FailedPrecondition(f"{v.project}/{v.name}:v{v.version} is not deleted")
        cmd = ra.UndeleteVersions(v.project, v.name, [v.version_id])
        result = await self.rpc.call(INGEST.undelete_versions, cmd)
        return pb.UndeleteVersionResponse(undeleted=_changes(result.deleted))

    @unary
    async def UndeleteCollection(self, request, context) -> pb.UndeleteCollectionResponse:
        cmd = ra.UndeleteVersions(request.project, request.name, whole_collection=True)
        result = await self.rpc.call(INGEST.undelete_versions, cmd)
        return pb.UndeleteCollectionResponse(undeleted=_changes(result.deleted))

    @unary
    async def SetVersionTtl(self, request: pb.SetVersionTtlRequest, context) -> pb.SetVersionTtlResponse:
        parse_ref(request.ref)
        await self.rpc.call(RETENTION.set_version_ttl, ra.SetVersionTtl(request.ref, request.ttl_seconds))
        return pb.SetVersionTtlResponse()

    @unary
    async def SetDefaultTtl(self, request: pb.SetDefaultTtlRequest, context) -> pb.SetDefaultTtlResponse:
        cmd = ra.SetDefaultTtl(request.project, request.ttl_seconds, request.type)
        await self.rpc.call(RETENTION.set_default_ttl, cmd)
        return pb.SetDefaultTtlResponse()

    @unary
    async def PutPolicy(self, request: pb.PutPolicyRequest, context) -> pb.PutPolicyResponse:
        p = request.policy
        if p.mode not in ("", "max", "min"):
            raise InvalidArgument("mode is 'max' or 'min'")
        check_text(p.name_pattern, "policy.name_pattern")
        check_text(p.metric, "policy.metric", MAX_KEY_CHARS)
        policy = ra.Policy(
            project=p.project,
            name=p.name,
            type=p.type,
            name_pattern=p.name_pattern,
            keep_last=p.keep_last,
            keep_best=p.keep_best,
            metric=p.metric,
            mode="min" if p.mode == "min" else "max",  # "" (unset) is "max"; others were refused above
            max_age_seconds=p.max_age_seconds,
            manual=p.manual,
        )
        stored = await self.rpc.call(RETENTION.put_policy, policy)
        return pb.PutPolicyResponse(policy=policy_to_pb(stored))

    @unary
    async def GetVersionTtl(self, request: pb.GetVersionTtlRequest, context) -> pb.GetVersionTtlResponse:
        parse_ref(request.ref)
        ttl = await self.rpc.call(RETENTION.get_version_ttl, api.GetVersion(request.ref))
        out = pb.GetVersionTtlResponse(ttl_seconds=ttl.ttl_seconds, source=ttl.source)
        if ttl.expires_at:
            out.expires_at.CopyFrom(convert.timestamp(ttl.expires_at))
        return out

    @unary
    async def RemovePolicy(self, request: pb.RemovePolicyRequest, context) -> pb.RemovePolicyResponse:
        check_name(request.project, "project")
        check_name(request.name, "policy name")
        await self.rpc.call(RETENTION.remove_policy, ra.PolicyRef(request.project, request.name))
        return pb.RemovePolicyResponse()

    @unary
    async def ListPolicies(self, request: pb.ListPoliciesRequest, context) -> pb.ListPoliciesResponse:
        check_name(request.project, "project")
        result = await self.rpc.call(RETENTION.list_policies, ra.ProjectQuery(request.project))
        return pb.ListPoliciesResponse(
            policies=[policy_to_pb(p) for p in result.policies], default_ttls=result.default_ttls
        )

    @unary
    async def PlanRetention(self, request: pb.PlanRetentionRequest, context) -> pb.PlanRetentionResponse:
        plan = await self.rpc.call(
            RETENTION.plan, ra.PlanRequest(request.project, _as_of(request), request.limit), timeout=120
        )
        return pb.PlanRetentionResponse(
            deletions=[
                pb.PlannedDeletion(
                    project=d.project, name=d.name, version_id=d.version_id, version=d.version, reasons=d.reasons
                )
                for d in plan.deletions
            ],
            protected_versions=plan.protected,
            total_deletions=plan.total,
            protected=[
                pb.ProtectedVersion(
                    project=p.project,
                    name=p.name,
                    version_id=p.version_id,
                    version=p.version,
                    reasons=p.reasons,
                    aliases=p.aliases,
                )
                for p in plan.protected_versions
            ],
        )

    @unary
    async def ApplyRetention(self, request: pb.ApplyRetentionRequest, context) -> pb.ApplyRetentionResponse:
        result = await self.rpc.call(RETENTION.apply, ra.PlanRequest(request.project, _as_of(request)))
        return pb.ApplyRetentionResponse(deleted=result.deleted, skipped=_skipped(result.skipped))

    async def _gc(self, cmd: ra.CollectGarbage) -> ra.GcResult:
        return await collect_garbage(self.rpc, cmd)

    @unary
    async def CollectGarbage(self, request: pb.CollectGarbageRequest, context) -> pb.CollectGarbageResponse:
        if not request.dry_run and not request.confirm:  # an empty request must not sweep
            raise InvalidArgument("CollectGarbage requires confirm=true (or dry_run); nothing was collected")
        for d in request.digests:
            check_digest(d)
        for field in ("grace_seconds", "repack_read_grace_seconds"):  # NaN compares false with any age
            value = getattr(request, field)
            if request.HasField(field) and not (math.isfinite(value) and value >= 0):
                raise InvalidArgument(f"{field} must be a finite number of seconds >= 0, not {value}")
        grace = request.grace_seconds if request.HasField("grace_seconds") else DEFAULT_GRACE
        r = await self._gc(
            ra.CollectGarbage(
                grace_seconds=grace,
                dry_run=request.dry_run,
                digests=list(request.digests),
                staging=not request.skip_staging,
                repack=request.repack,
                repack_read_grace_seconds=(
                    request.repack_read_grace_seconds
                    if request.HasField("repack_read_grace_seconds")
                    else ra.DEFAULT_REPACK_READ_GRACE
                ),
            )
        )
        return pb.CollectGarbageResponse(
            sweep_id=r.sweep_id,
            blobs_total=r.blobs_total,
            bytes_total=r.bytes_total,
            blobs_unreferenced=r.blobs_unreferenced,
            blobs_deleted=r.blobs_deleted,
            bytes_freed=r.bytes_freed,
            staging_deleted=r.staging_deleted,
            pending_purged=r.pending_purged,
            seconds=r.seconds,
            packs_repacked=r.packs_repacked,
            blobs_repacked=r.blobs_repacked,
            bytes_repacked=r.bytes_repacked,
            repacked_objects_deleted=r.repacked_objects_deleted,
        )

    @unary
    async def GetStorageReport(self, request: pb.GetStorageReportRequest, context) -> pb.GetStorageReportResponse:
        if request.project:
            check_name(request.project, "project")
        usage, gc = await asyncio.gather(
            self.rpc.call(INGEST.usage, ra.StorageUsage(request.project)),
            self._gc(ra.CollectGarbage(grace_seconds=DEFAULT_GRACE, dry_run=True, staging=False)),
        )
        return pb.GetStorageReportResponse(
            blobs_stored=gc.blobs_total,
            bytes_stored=gc.bytes_total,
            collections=[
                pb.CollectionStorage(
                    project=c.project,
                    name=c.name,
                    versions=c.versions,
                    deleted_versions=c.deleted_versions,
                    logical_bytes=c.logical_bytes,
                    referenced_bytes=c.referenced_bytes,
                )
                for c in usage.collections
            ],
            reclaimable_blobs=gc.blobs_unreferenced,
            reclaimable_bytes=gc.bytes_freed,
        )
