"""LineageService: runs, lineage queries and the step cache, forwarded to the lineage service."""

from __future__ import annotations

import json

from arkive_core.errors import InvalidArgument
from arkive_core.limits import check_text
from arkive_core.refs import parse_ref
from arkive_core.validation import check_name, parse_metadata

from arkive_common import api_lineage as al
from arkive_common.contracts import LINEAGE
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import lineage_service_pb2 as pb
from arkive_proto.v1 import lineage_service_pb2_grpc as pb_grpc

from . import convert
from .errors import unary

STATES = {
    "running": pb.RUN_STATE_RUNNING,
    "finished": pb.RUN_STATE_FINISHED,
    "failed": pb.RUN_STATE_FAILED,
    "crashed": pb.RUN_STATE_CRASHED,
}
DIRECTIONS = {
    pb.LINEAGE_DIRECTION_UNSPECIFIED: "up",
    pb.LINEAGE_DIRECTION_UPSTREAM: "up",
    pb.LINEAGE_DIRECTION_DOWNSTREAM: "down",
    pb.LINEAGE_DIRECTION_BOTH: "both",
}


def run(v: al.RunView) -> pb.Run:
    msg = pb.Run(
        run_id=v.run_id,
        project=v.project,
        name=v.name,
        job_type=v.job_type,
        group=v.group,
        config_json=json.dumps(v.config, sort_keys=True),
        state=STATES.get(v.state, pb.RUN_STATE_UNSPECIFIED),
        started_at=convert.timestamp(v.started_at),
        used_version_ids=v.used_version_ids,
        logged_version_ids=v.logged_version_ids,
        used_refs=v.used_refs,
        logged_refs=v.logged_refs,
    )
    if v.finished_at is not None:
        msg.finished_at.CopyFrom(convert.timestamp(v.finished_at))
    return msg


def node(n: al.NodeView) -> pb.LineageNode:
    return pb.LineageNode(
        id=n.id,
        kind=n.kind,
        project=n.project,
        name=n.name,
        type=n.type,
        version=n.version,
        depth=n.depth,
        deleted=n.deleted,
        state=STATES.get(n.state, pb.RUN_STATE_UNSPECIFIED),
    )


class LineageServicer(pb_grpc.LineageServiceServicer):
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    @unary
    async def StartRun(self, request: pb.StartRunRequest, context) -> pb.StartRunResponse:
        check_name(request.project, "project")
        check_text(request.job_type, "job_type")
        check_text(request.group, "group")
        cmd = al.StartRun(
            project=request.project,
            name=request.name,
            job_type=request.job_type,
            group=request.group,
            config=parse_metadata(request.config_json, "config"),
            heartbeat_timeout=request.heartbeat_timeout_seconds,
        )
        return pb.StartRunResponse(run=run(await self.rpc.call(LINEAGE.start_run, cmd)))

    @unary
    async def HeartbeatRun(self, request: pb.HeartbeatRunRequest, context) -> pb.HeartbeatRunResponse:
        reply = await self.rpc.call(LINEAGE.heartbeat, al.RunId(request.run_id))
        return pb.HeartbeatRunResponse(state=STATES[reply.state])

    @unary
    async def FinishRun(self, request: pb.FinishRunRequest, context) -> pb.FinishRunResponse:
        states = {pb.RUN_STATE_FINISHED: "finished", pb.RUN_STATE_FAILED: "failed"}
        if request.state not in states:
            raise InvalidArgument("a run finishes as RUN_STATE_FINISHED or RUN_STATE_FAILED")
        view = await self.rpc.call(LINEAGE.finish_run, al.FinishRun(request.run_id, states[request.state]))
        return pb.FinishRunResponse(run=run(view))

    @unary
    async def GetRun(self, request: pb.GetRunRequest, context) -> pb.GetRunResponse:
        return pb.GetRunResponse(run=run(await self.rpc.call(LINEAGE.get_run, al.RunId(request.run_id))))

    @unary
    async def ListRuns(self, request: pb.ListRunsRequest, context) -> pb.ListRunsResponse:
        check_name(request.project, "project")
        q = al.ListRuns(request.project, request.job_type, request.group, request.page_size, request.page_token)
        page = await self.rpc.call(LINEAGE.list_runs, q)
        return pb.ListRunsResponse(runs=[run(r) for r in page.runs], next_page_token=page.next_page_token)

    @unary
    async def UseArtifact(self, request: pb.UseArtifactRequest, context) -> pb.UseArtifactResponse:
        parse_ref(request.ref)
        view = await self.rpc.call(LINEAGE.use_artifact, al.UseArtifact(request.run_id, request.ref))
        return pb.UseArtifactResponse(version=convert.version(view))

    @unary
    async def RecordCacheKey(self, request: pb.RecordCacheKeyRequest, context) -> pb.RecordCacheKeyResponse:
        cmd = al.RecordCacheKey(request.run_id, request.cache_key, list(request.version_ids))
        await self.rpc.call(LINEAGE.record_cache_key, cmd)
        return pb.RecordCacheKeyResponse()

    @unary
    async def LookupCache(self, request: pb.LookupCacheRequest, context) -> pb.LookupCacheResponse:
        check_name(request.project, "project")
        hit = await self.rpc.call(LINEAGE.lookup_cache, al.LookupCache(request.project, request.cache_key))
        return pb.LookupCacheResponse(
            hit=hit.hit, run_id=hit.run_id, versions=[convert.version(v) for v in hit.versions]
        )

    @unary
    async def GetLineage(self, request: pb.GetLineageRequest, context) -> pb.GetLineageResponse:
        if not request.ref.startswith("run:"):
            parse_ref(request.ref)
        q = al.GetLineage(
            ref=request.ref,
            direction=DIRECTIONS.get(request.direction, "up"),
            depth=request.depth,
            artifact_type=request.artifact_type,
            job_type=request.job_type,
            as_of=request.as_of.ToNanoseconds() / 1e9 if request.HasField("as_of") else None,
            limit=request.limit,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        g = await self.rpc.call(LINEAGE.get_lineage, q)
        return pb.GetLineageResponse(
            root=node(g.root),
            nodes=[node(n) for n in g.nodes],
            edges=[pb.LineageEdge(source=e.source, target=e.target, kind=e.kind) for e in g.edges],
            truncated=g.truncated,
            next_page_token=g.next_page_token,
        )
