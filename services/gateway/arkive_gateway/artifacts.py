"""ArtifactService and AdminService: validate, forward to the owning service, convert the answer."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.limits import MAX_FILES_PER_CALL, MAX_REMOVALS_PER_CALL
from arkive_core.refs import parse_ref
from arkive_core.validation import check_annotations, check_digest, check_name, normalize_path, parse_metadata

from arkive_common import api
from arkive_common import api_aliases as aa
from arkive_common import api_diff as ad
from arkive_common.contracts import ALL, HASHING, INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import artifact_service_pb2 as pb
from arkive_proto.v1 import artifact_service_pb2_grpc as pb_grpc

from . import convert, scrub
from .errors import unary
from .run_check import check_run


class ArtifactServicer(pb_grpc.ArtifactServiceServicer):
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    @unary
    async def CreateDraft(self, request: pb.CreateDraftRequest, context) -> pb.CreateDraftResponse:
        cmd = api.CreateDraft(
            request.project,
            request.name,
            request.type,
            base_ref=request.base_ref,
            # always one, so that the bus may re-send it (INGEST.create_draft.resend) without a second draft
            request_id=request.request_id or uuid.uuid4().hex,
        )
        reply = await self.rpc.call(INGEST.create_draft, cmd)
        return pb.CreateDraftResponse(draft_id=reply.draft_id, commit_takes_files=True)

    @unary
    async def AddFiles(self, request: pb.AddFilesRequest, context) -> pb.AddFilesResponse:
        if len(request.files) > MAX_FILES_PER_CALL:
            raise InvalidArgument(f"at most {MAX_FILES_PER_CALL} files per AddFiles call")
        entries = [(f.path, f.digest, f.size) for f in request.files]
        reply = await self.rpc.call(INGEST.add_files, api.AddFiles(request.draft_id, entries))
        return pb.AddFilesResponse(file_count=reply.file_count)

    @unary
    async def CommitDraft(self, request: pb.CommitDraftRequest, context) -> pb.CommitDraftResponse:
        if len(request.files) > MAX_FILES_PER_CALL:
            raise InvalidArgument(f"at most {MAX_FILES_PER_CALL} files per CommitDraft call")
        metadata = parse_metadata(request.metadata_json)  # before anything is added
        check_annotations(request.description, list(request.aliases), list(request.tags), request.label)
        cmd = api.CommitDraft(
            draft_id=request.draft_id,
            metadata=metadata,
            description=request.description,
            aliases=list(request.aliases),
            tags=list(request.tags),
            label=request.label,
            run_id=request.run_id,
            entries=[(f.path, f.digest, f.size) for f in request.files],
        )
        await check_run(self.rpc, cmd.run_id)
        reply = await self.rpc.call(INGEST.commit_draft, cmd)
        return pb.CommitDraftResponse(version=convert.version(reply.version), created=reply.created)

    @unary
    async def GetVersion(self, request: pb.GetVersionRequest, context) -> pb.GetVersionResponse:
        parse_ref(request.ref)
        as_of = request.as_of.ToNanoseconds() / 1e9 if request.HasField("as_of") else None
        view = await self.rpc.call(INGEST.get_version, api.GetVersion(request.ref, as_of))
        return pb.GetVersionResponse(version=convert.version(view))

    @unary
    async def FindVersionByManifest(self, request: pb.FindVersionByManifestRequest, context):
        check_name(request.project, "project")
        check_name(request.name)
        check_digest(request.manifest_digest)
        reply = await self.rpc.call(
            INGEST.find_by_manifest, api.FindByManifest(request.project, request.name, request.manifest_digest)
        )
        if reply.version is None:
            return pb.FindVersionByManifestResponse()
        return pb.FindVersionByManifestResponse(version=convert.version(reply.version))

    @unary
    async def AssignAliases(self, request: pb.AssignAliasesRequest, context) -> pb.AssignAliasesResponse:
        parse_ref(request.ref)
        view = await self.rpc.call(INGEST.assign_aliases, api.AssignAliases(request.ref, list(request.aliases)))
        return pb.AssignAliasesResponse(version=convert.version(view))

    @unary
    async def SetAliases(self, request: pb.SetAliasesRequest, context) -> pb.SetAliasesResponse:
        parse_ref(request.ref)
        cmd = aa.SetAliases(request.ref, list(request.add), list(request.remove))
        view = await self.rpc.call(INGEST.set_aliases, cmd)
        return pb.SetAliasesResponse(version=convert.version(view))

    @unary
    async def ListAliases(self, request: pb.ListAliasesRequest, context) -> pb.ListAliasesResponse:
        check_name(request.project, "project")
        check_name(request.name)
        reply = await self.rpc.call(INGEST.list_aliases, aa.ListAliases(request.project, request.name))
        return pb.ListAliasesResponse(
            aliases=[
                pb.AliasTarget(
                    alias=a.alias,
                    version_id=a.version_id,
                    version=a.version,
                    project=a.source_project,
                    name=a.source_name,
                )
                for a in reply.aliases
            ]
        )

    @unary
    async def DiffFiles(self, request: pb.DiffFilesRequest, context) -> pb.DiffFilesResponse:
        parse_ref(request.ref_a)
        parse_ref(request.ref_b)
        query = ad.DiffFiles(request.ref_a, request.ref_b, request.page_size, request.page_token)
        page = await self.rpc.call(INGEST.diff_files, query)
        return pb.DiffFilesResponse(
            changes=[convert.file_change(c) for c in page.changes], next_page_token=page.next_page_token
        )

    @unary
    async def ListVersions(self, request: pb.ListVersionsRequest, context) -> pb.ListVersionsResponse:
        check_name(request.project, "project")
        check_name(request.name)
        page = await self.rpc.call(
            INGEST.list_versions, api.ListVersions(request.project, request.name, request.page_size, request.page_token)
        )
        return pb.ListVersionsResponse(
            versions=[convert.version(v) for v in page.versions], next_page_token=page.next_page_token
        )

    @unary
    async def ListArtifacts(self, request: pb.ListArtifactsRequest, context) -> pb.ListArtifactsResponse:
        check_name(request.project, "project")
        page = await self.rpc.call(
            INGEST.list_artifacts,
            api.ListArtifacts(request.project, request.type, request.page_size, request.page_token),
        )
        return pb.ListArtifactsResponse(
            artifacts=[convert.collection(c) for c in page.artifacts], next_page_token=page.next_page_token
        )

    @unary
    async def ListFiles(self, request: pb.ListFilesRequest, context) -> pb.ListFilesResponse:
        parse_ref(request.ref)
        # Validated like any artifact path: a prefix can never name "..", "/etc" and the like.
        try:
            prefix = normalize_path(request.path_prefix.rstrip("/")) if request.path_prefix else ""
        except InvalidArgument as exc:
            raise InvalidArgument(f"path_prefix: {exc.message}") from None
        page = await self.rpc.call(
            INGEST.list_files, api.ListFiles(request.ref, request.page_size, request.page_token, prefix)
        )
        refs = {r[0]: r for r in page.references}
        return pb.ListFilesResponse(
            files=[convert.file_entry(f, refs.get(f[0])) for f in page.files], next_page_token=page.next_page_token
        )

    @unary
    async def UpsertFiles(self, request: pb.UpsertFilesRequest, context) -> pb.UpsertFilesResponse:
        if len(request.files) > MAX_FILES_PER_CALL:
            raise InvalidArgument(f"at most {MAX_FILES_PER_CALL} files per UpsertFiles call")
        entries = [(f.path, f.digest, f.size) for f in request.files]
        cmd = api.UpsertFiles(
            project=request.project,
            name=request.name,
            type=request.type,
            distributed_id=request.distributed_id,
            entries=entries,
            overwrite=request.overwrite,
            start_new=request.start_new,
        )
        reply = await self.rpc.call(INGEST.upsert_files, cmd)
        return pb.UpsertFilesResponse(draft_id=reply.draft_id, file_count=reply.file_count)

    @unary
    async def FinishDistributed(self, request: pb.FinishDistributedRequest, context) -> pb.FinishDistributedResponse:
        check_annotations(request.description, list(request.aliases), list(request.tags), request.label)
        cmd = api.FinishDistributed(
            project=request.project,
            name=request.name,
            distributed_id=request.distributed_id,
            metadata=parse_metadata(request.metadata_json),
            description=request.description,
            aliases=list(request.aliases),
            tags=list(request.tags),
            label=request.label,
            run_id=request.run_id,
        )
        await check_run(self.rpc, cmd.run_id)
        reply = await self.rpc.call(INGEST.finish_distributed, cmd)
        return pb.FinishDistributedResponse(version=convert.version(reply.version), created=reply.created)

    @unary
    async def ListDrafts(self, request: pb.ListDraftsRequest, context) -> pb.ListDraftsResponse:
        reply = await self.rpc.call(INGEST.list_drafts, api.ListDrafts(request.project, request.idle_seconds))
        return pb.ListDraftsResponse(drafts=[convert.draft(d) for d in reply.drafts])

    @unary
    async def AbortDraft(self, request: pb.AbortDraftRequest, context) -> pb.AbortDraftResponse:
        await self.rpc.call(INGEST.abort_draft, api.AbortDraft(request.draft_id))
        return pb.AbortDraftResponse()

    @unary
    async def RemoveFiles(self, request: pb.RemoveFilesRequest, context) -> pb.RemoveFilesResponse:
        if len(request.paths) + len(request.prefixes) > MAX_REMOVALS_PER_CALL:
            raise InvalidArgument(f"at most {MAX_REMOVALS_PER_CALL} paths and prefixes per RemoveFiles call")
        cmd = api.RemoveFiles(request.draft_id, list(request.paths), list(request.prefixes))
        reply = await self.rpc.call(INGEST.remove_files, cmd)
        return pb.RemoveFilesResponse(removed=reply.removed, file_count=reply.file_count)


class AdminServicer(admin_grpc.AdminServiceServicer):
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    @unary
    async def RebuildProjections(self, request, context) -> admin_pb.RebuildProjectionsResponse:
        if not request.confirm:  # an empty or mangled request must not drop every read model
            raise InvalidArgument("RebuildProjections requires confirm=true; nothing was rebuilt")
        results = await asyncio.gather(*(self.rpc.call(c.rebuild, api.Empty()) for c in ALL))
        return admin_pb.RebuildProjectionsResponse(
            rebuilds=[admin_pb.ProjectionRebuild(service=r.service, events_replayed=r.events_replayed) for r in results]
        )

    @unary
    async def GetBlobStats(self, request, context) -> admin_pb.GetBlobStatsResponse:
        stats = await self.rpc.call(HASHING.blob_stats, api.Empty())
        return admin_pb.GetBlobStatsResponse(**msgspec.structs.asdict(stats))

    @unary
    async def ScrubBlobs(self, request, context) -> admin_pb.ScrubBlobsResponse:
        return await scrub.scrub_blobs(self.rpc, request)

    @unary
    async def ReportCorruptBlobs(self, request, context) -> admin_pb.ReportCorruptBlobsResponse:
        return await scrub.report_corrupt(self.rpc, request)
