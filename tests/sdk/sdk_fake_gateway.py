"""An in-memory gateway speaking the arkive.v1 contract, so the SDK's protocol is testable without
the real services. It is deliberately strict (verifies digests, sizes, paths) and records calls.

It runs on its own event loop in a daemon thread: the blocking Client under test must be able to
wait on it from the test's thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import grpc
from arkive_core.errors import ArkiveError, NotFound
from arkive_core.manifest import manifest_digest
from arkive_core.refs import parse_ref
from arkive_core.validation import check_digest, check_path

from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import blob_service_pb2_grpc as bgrpc
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc
from arkive_proto.v1 import types_pb2

DOWNLOAD_CHUNK = 256 * 1024  # smaller than the SDK's, so multi-chunk paths get exercised


@dataclass
class Draft:
    project: str
    name: str
    type: str
    files: dict[str, types_pb2.FileEntry] = field(default_factory=dict)
    distributed_id: str = ""
    draft_id: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class State:
    blobs: dict[str, bytes] = field(default_factory=dict)
    drafts: dict[str, Draft] = field(default_factory=dict)
    # (project, name) -> versions, oldest first
    versions: dict[tuple[str, str], list[types_pb2.Version]] = field(default_factory=dict)
    files: dict[str, list[types_pb2.FileEntry]] = field(default_factory=dict)  # version_id -> files
    calls: Counter[str] = field(default_factory=Counter)
    add_files_sizes: list[int] = field(default_factory=list)
    # version_id -> a listing to serve instead of the real one (hostile-server tests)
    file_override: dict[str, list[types_pb2.FileEntry]] = field(default_factory=dict)
    fail_downloads: int = 0  # abort this many DownloadBlob streams half-way with UNAVAILABLE
    # method -> faults for its next calls: (status code name, after): the call fails with that code,
    # before doing anything (after=False) or after doing its work, as if the answer got lost (True).
    faults: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    # (project, name, distributed id) -> versions finished from it, oldest first
    finished: dict[tuple[str, str, str], list[types_pb2.Version]] = field(default_factory=dict)
    upserts: list[tuple[int, bool, bool]] = field(default_factory=list)  # (files, overwrite, start_new)
    retention: list[tuple[str, object]] = field(default_factory=list)  # (RetentionService method, request)

    def fail(self, method: str, code: str = "UNAVAILABLE", *, times: int = 1, after: bool = False) -> None:
        self.faults.setdefault(method, []).extend([(code, after)] * times)

    def _fault(self, method: str, after: bool) -> str | None:
        queue = self.faults.get(method)
        if queue and queue[0][1] == after:
            return queue.pop(0)[0]
        return None


async def _abort(context: grpc.aio.ServicerContext, exc: ArkiveError) -> None:
    await context.abort(getattr(grpc.StatusCode, exc.code.value), exc.message)


async def _inject(
    st: State, method: str, context: grpc.aio.ServicerContext, *, after: bool, requests: Any = None
) -> None:
    code = st._fault(method, after)
    if code and requests is not None:  # like the gateway: a rejected upload stream is read to its end first
        async for _ in requests:
            pass
    if code is not None:
        what = "answer lost" if after else "failed"
        await context.abort(getattr(grpc.StatusCode, code), f"{method} {what} (simulated)")


class Blobs(bgrpc.BlobServiceServicer):
    def __init__(self, st: State) -> None:
        self.st = st

    async def FindMissingBlobs(self, request, context):
        self.st.calls["FindMissingBlobs"] += 1
        await _inject(self.st, "FindMissingBlobs", context, after=False)
        if len(request.digests) > 10_000:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "too many digests")
        return bpb.FindMissingBlobsResponse(missing=[d for d in request.digests if d not in self.st.blobs])

    async def UploadBlob(self, request_iterator, context):
        self.st.calls["UploadBlob"] += 1
        await _inject(self.st, "UploadBlob", context, after=False, requests=request_iterator)
        header = None
        h = hashlib.sha256()
        parts: list[bytes] = []
        async for req in request_iterator:
            if header is None:
                if not req.HasField("header"):
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "first message must be a header")
                header = req.header
                continue
            h.update(req.chunk)
            parts.append(req.chunk)
        if header is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no header")
        data = b"".join(parts)
        if len(data) != header.size or "sha256:" + h.hexdigest() != header.digest:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "digest or size mismatch")
        present = header.digest in self.st.blobs
        self.st.blobs[header.digest] = data
        await _inject(self.st, "UploadBlob", context, after=True)
        return bpb.UploadBlobResponse(digest=header.digest, size=len(data), already_present=present)

    async def DownloadBlob(self, request, context):
        self.st.calls["DownloadBlob"] += 1
        data = self.st.blobs.get(request.digest)
        if data is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"blob {request.digest} not found")
        fail = self.st.fail_downloads > 0 and len(data) - request.offset > DOWNLOAD_CHUNK
        if fail:
            self.st.fail_downloads -= 1
        for i in range(request.offset, len(data), DOWNLOAD_CHUNK):
            yield bpb.DownloadBlobResponse(chunk=data[i : i + DOWNLOAD_CHUNK])
            if fail:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset (simulated)")

    async def UploadBlobs(self, request_iterator, context):
        self.st.calls["UploadBlobs"] += 1
        await _inject(self.st, "UploadBlobs", context, after=False, requests=request_iterator)
        received: list[tuple[bpb.UploadBlobHeader, bytes]] = []
        header, parts = None, []
        async for req in request_iterator:
            if req.HasField("blobs"):  # whole blobs inline
                if header is not None:
                    received.append((header, b"".join(parts)))
                header, parts = None, []
                received += [(bpb.UploadBlobHeader(digest=b.digest, size=b.size), b.data) for b in req.blobs.blobs]
            elif req.HasField("header"):
                if header is not None:
                    received.append((header, b"".join(parts)))
                header, parts = req.header, []
            elif header is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bytes before the first header")
            else:
                parts.append(req.chunk)
        if header is not None:
            received.append((header, b"".join(parts)))
        for h, data in received:  # all or nothing, like the real gateway
            if len(data) != h.size or "sha256:" + hashlib.sha256(data).hexdigest() != h.digest:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"digest mismatch for {h.digest}")
        present = sum(h.digest in self.st.blobs for h, _ in received)
        for h, data in received:
            self.st.blobs[h.digest] = data
        self.st.calls["blobs_in_packs"] += len(received)
        await _inject(self.st, "UploadBlobs", context, after=True)
        stored = len(received) - present
        return bpb.UploadBlobsResponse(stored=stored, already_present=present)

    async def DownloadBlobs(self, request, context):
        self.st.calls["DownloadBlobs"] += 1
        for digest in dict.fromkeys(request.digests):
            data = self.st.blobs.get(digest)
            if data is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"blob {digest} not found")
            yield bpb.DownloadBlobsResponse(header=bpb.UploadBlobHeader(digest=digest, size=len(data)))
            for i in range(0, len(data), DOWNLOAD_CHUNK):
                yield bpb.DownloadBlobsResponse(chunk=data[i : i + DOWNLOAD_CHUNK])


class Artifacts(agrpc.ArtifactServiceServicer):
    def __init__(self, st: State) -> None:
        self.st = st

    def _resolve(self, ref: str) -> types_pb2.Version:
        r = parse_ref(ref)
        if r.version_id:
            for vs in self.st.versions.values():
                for v in vs:
                    if v.version_id == r.version_id:
                        return v
        for v in reversed(self.st.versions.get((r.project, r.name), [])):
            if f"v{v.version}" == r.selector or r.selector in v.aliases or r.selector == v.label:
                return v
        raise NotFound(f"no version {ref}")

    async def CreateDraft(self, request, context):
        self.st.calls["CreateDraft"] += 1
        draft_id = uuid.uuid4().hex
        self.st.drafts[draft_id] = Draft(request.project, request.name, request.type, draft_id=draft_id)
        return apb.CreateDraftResponse(draft_id=draft_id)

    async def AddFiles(self, request, context):
        self.st.calls["AddFiles"] += 1
        self.st.add_files_sizes.append(len(request.files))
        draft = self.st.drafts[request.draft_id]
        if len(request.files) > 5000:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "too many files")
        for f in request.files:
            try:
                check_path(f.path)
                check_digest(f.digest)
            except ArkiveError as exc:
                await _abort(context, exc)
            if f.digest not in self.st.blobs:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"blob {f.digest} is not stored")
            draft.files[f.path] = f
        return apb.AddFilesResponse(file_count=len(draft.files))

    async def CommitDraft(self, request, context):
        self.st.calls["CommitDraft"] += 1
        d = self.st.drafts.pop(request.draft_id)
        return self._commit(d, request)

    def _commit(self, d: Draft, request) -> apb.CommitDraftResponse:
        entries = sorted(d.files.values(), key=lambda f: f.path)
        md = manifest_digest((f.path, f.digest, f.size) for f in entries)
        vs = self.st.versions.setdefault((d.project, d.name), [])
        for v in vs:
            if v.manifest_digest == md:
                return apb.CommitDraftResponse(version=v, created=False)
        for v in vs:  # aliases move: take them off older versions
            keep = [a for a in v.aliases if a not in request.aliases and a != "latest"]
            del v.aliases[:]
            v.aliases.extend(keep)
        v = types_pb2.Version(
            version_id=uuid.uuid4().hex,
            project=d.project,
            name=d.name,
            type=d.type,
            version=len(vs),
            manifest_digest=md,
            file_count=len(entries),
            total_size=sum(f.size for f in entries),
            metadata_json=request.metadata_json,
            description=request.description,
            aliases=[*request.aliases, "latest"],
            tags=request.tags,
            label=request.label,
        )
        v.created_at.GetCurrentTime()
        vs.append(v)
        self.st.files[v.version_id] = entries
        return apb.CommitDraftResponse(version=v, created=True)

    async def GetVersion(self, request, context):
        self.st.calls["GetVersion"] += 1
        try:
            return apb.GetVersionResponse(version=self._resolve(request.ref))
        except ArkiveError as exc:
            await _abort(context, exc)

    async def FindVersionByManifest(self, request, context):
        self.st.calls["FindVersionByManifest"] += 1
        for v in self.st.versions.get((request.project, request.name), []):
            if v.manifest_digest == request.manifest_digest:
                return apb.FindVersionByManifestResponse(version=v)
        return apb.FindVersionByManifestResponse()

    async def AssignAliases(self, request, context):
        self.st.calls["AssignAliases"] += 1
        target = self._resolve(request.ref)
        for v in self.st.versions[(target.project, target.name)]:
            keep = [a for a in v.aliases if a not in request.aliases]
            del v.aliases[:]
            v.aliases.extend(keep)
        target.aliases.extend(request.aliases)
        return apb.AssignAliasesResponse(version=target)

    @staticmethod
    def _page(items: list, size: int, token: str) -> tuple[list, str]:
        start = int(token or 0)
        size = size or 100
        end = start + size
        return items[start:end], (str(end) if end < len(items) else "")

    async def ListVersions(self, request, context):
        vs = list(reversed(self.st.versions.get((request.project, request.name), [])))
        page, tok = self._page(vs, request.page_size, request.page_token)
        return apb.ListVersionsResponse(versions=page, next_page_token=tok)

    async def ListArtifacts(self, request, context):
        cols = []
        for (project, name), vs in sorted(self.st.versions.items()):
            if project != request.project or not vs or (request.type and vs[-1].type != request.type):
                continue
            c = types_pb2.Collection(project=project, name=name, type=vs[-1].type, version_count=len(vs), latest=vs[-1])
            c.created_at.CopyFrom(vs[0].created_at)
            cols.append(c)
        page, tok = self._page(cols, request.page_size, request.page_token)
        return apb.ListArtifactsResponse(artifacts=page, next_page_token=tok)

    async def ListFiles(self, request, context):
        self.st.calls["ListFiles"] += 1
        try:
            v = self._resolve(request.ref)
        except ArkiveError as exc:
            await _abort(context, exc)
        files = self.st.file_override.get(v.version_id, self.st.files[v.version_id])
        if request.path_prefix:  # folder semantics, as services/ingest/arkive_ingest/queries.py
            pre = request.path_prefix
            files = [f for f in files if f.path == pre or f.path.startswith(pre + "/")]
        page, tok = self._page(files, min(request.page_size, 7), request.page_token)  # tiny pages
        return apb.ListFilesResponse(files=page, next_page_token=tok)

    # ---- distributed drafts (the semantics of services/ingest/arkive_ingest/distributed.py) ----

    def _open_distributed(self, project: str, name: str, did: str) -> Draft | None:
        for d in self.st.drafts.values():
            if (d.project, d.name, d.distributed_id) == (project, name, did):
                return d
        return None

    async def UpsertFiles(self, request, context):
        self.st.calls["UpsertFiles"] += 1
        self.st.upserts.append((len(request.files), request.overwrite, request.start_new))
        await _inject(self.st, "UpsertFiles", context, after=False)
        if len(request.files) > 5000:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "at most 5000 files per UpsertFiles call")
        for f in request.files:
            try:
                check_path(f.path)
                check_digest(f.digest)
            except ArkiveError as exc:
                await _abort(context, exc)
            if f.digest not in self.st.blobs:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"blob {f.digest} is not stored")
        key = (request.project, request.name, request.distributed_id)
        where = f"{request.project}/{request.name} (distributed id {request.distributed_id!r})"
        d = self._open_distributed(*key)
        if d is None:
            done = self.st.finished.get(key)
            if done and not request.start_new:
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, f"{where} was already finished as v{done[-1].version}"
                )
            d = Draft(request.project, request.name, request.type, distributed_id=request.distributed_id)
            d.draft_id = uuid.uuid4().hex
            self.st.drafts[d.draft_id] = d
        elif d.type != request.type:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{where} is a draft of type {d.type!r}")
        if not request.overwrite:
            for f in request.files:
                old = d.files.get(f.path)
                if old is not None and old.digest != f.digest:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        f"{where}: {f.path} was already added with {old.digest}; this upsert has {f.digest}",
                    )
        for f in request.files:
            d.files[f.path] = f
        d.updated_at = time.time()
        await _inject(self.st, "UpsertFiles", context, after=True)
        return apb.UpsertFilesResponse(draft_id=d.draft_id, file_count=len(d.files))

    async def FinishDistributed(self, request, context):
        self.st.calls["FinishDistributed"] += 1
        await _inject(self.st, "FinishDistributed", context, after=False)
        key = (request.project, request.name, request.distributed_id)
        d = self._open_distributed(*key)
        if d is None:
            done = self.st.finished.get(key)
            if not done:
                await context.abort(
                    grpc.StatusCode.NOT_FOUND, f"no distributed draft {request.distributed_id!r}: nothing was upserted"
                )
            resp = apb.FinishDistributedResponse(version=done[-1], created=False)
        else:
            del self.st.drafts[d.draft_id]
            committed = self._commit(d, request)
            self.st.finished.setdefault(key, []).append(committed.version)
            resp = apb.FinishDistributedResponse(version=committed.version, created=committed.created)
        await _inject(self.st, "FinishDistributed", context, after=True)
        return resp

    async def ListDrafts(self, request, context):
        self.st.calls["ListDrafts"] += 1
        await _inject(self.st, "ListDrafts", context, after=False)
        now = time.time()
        out = []
        for d in sorted(self.st.drafts.values(), key=lambda d: d.updated_at):
            if d.project != request.project or now - d.updated_at < request.idle_seconds:
                continue
            pd = apb.Draft(
                draft_id=d.draft_id,
                project=d.project,
                name=d.name,
                type=d.type,
                distributed_id=d.distributed_id,
                file_count=len(d.files),
            )
            pd.created_at.FromNanoseconds(int(d.created_at * 1e9))
            pd.updated_at.FromNanoseconds(int(d.updated_at * 1e9))
            out.append(pd)
        return apb.ListDraftsResponse(drafts=out)

    async def AbortDraft(self, request, context):
        self.st.calls["AbortDraft"] += 1
        await _inject(self.st, "AbortDraft", context, after=False)
        if request.draft_id not in self.st.drafts:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"draft {request.draft_id} is not open")
        del self.st.drafts[request.draft_id]
        return apb.AbortDraftResponse()


class Retention(rgrpc.RetentionServiceServicer):
    """Records every request in state.retention and answers with small canned replies (the semantics
    are tested against the real stack); faults from State.fail apply."""

    def __init__(self, st: State) -> None:
        self.st = st

    async def _record(self, method: str, request, context) -> None:
        self.st.calls[method] += 1
        self.st.retention.append((method, request))
        await _inject(self.st, method, context, after=False)

    async def DeleteVersion(self, request, context):
        await self._record("DeleteVersion", request, context)
        return rpb.DeleteVersionResponse(deleted=[rpb.VersionChange(version_id="a" * 32, version=2)])

    async def DeleteCollection(self, request, context):
        await self._record("DeleteCollection", request, context)
        return rpb.DeleteCollectionResponse(
            deleted=[rpb.VersionChange(version_id="b" * 32, version=0)],
            skipped=[rpb.SkippedVersion(version_id="c" * 32, version=1, reason="already deleted")],
        )

    async def UndeleteVersion(self, request, context):
        await self._record("UndeleteVersion", request, context)
        return rpb.UndeleteVersionResponse(undeleted=[rpb.VersionChange(version_id="a" * 32, version=2)])

    async def UndeleteCollection(self, request, context):
        await self._record("UndeleteCollection", request, context)
        return rpb.UndeleteCollectionResponse(undeleted=[rpb.VersionChange(version_id="b" * 32, version=0)])

    async def SetVersionTtl(self, request, context):
        await self._record("SetVersionTtl", request, context)
        return rpb.SetVersionTtlResponse()

    async def SetDefaultTtl(self, request, context):
        await self._record("SetDefaultTtl", request, context)
        return rpb.SetDefaultTtlResponse()

    async def PutPolicy(self, request, context):
        await self._record("PutPolicy", request, context)
        policy = rpb.RetentionPolicy()
        policy.CopyFrom(request.policy)
        policy.mode = policy.mode or "max"
        return rpb.PutPolicyResponse(policy=policy)

    async def RemovePolicy(self, request, context):
        await self._record("RemovePolicy", request, context)
        return rpb.RemovePolicyResponse()

    async def ListPolicies(self, request, context):
        await self._record("ListPolicies", request, context)
        policy = rpb.RetentionPolicy(project=request.project, name="last2", keep_last=2, mode="max")
        return rpb.ListPoliciesResponse(policies=[policy], default_ttls={"": 86_400, "model": 3600})

    async def PlanRetention(self, request, context):
        await self._record("PlanRetention", request, context)
        deletion = rpb.PlannedDeletion(
            project=request.project, name="m", version_id="d" * 32, version=0, reasons=["ttl 1h passed"]
        )
        return rpb.PlanRetentionResponse(deletions=[deletion], protected_versions=1, total_deletions=3)

    async def ApplyRetention(self, request, context):
        await self._record("ApplyRetention", request, context)
        skipped = rpb.SkippedVersion(version_id="e" * 32, version=4, reason="held by alias production")
        return rpb.ApplyRetentionResponse(deleted=3, skipped=[skipped])

    async def CollectGarbage(self, request, context):
        await self._record("CollectGarbage", request, context)
        deleted = 0 if request.dry_run else 2
        return rpb.CollectGarbageResponse(
            sweep_id="s1",
            blobs_total=10,
            bytes_total=1000,
            blobs_unreferenced=2,
            blobs_deleted=deleted,
            bytes_freed=300,
            seconds=0.5,
        )

    async def GetStorageReport(self, request, context):
        await self._record("GetStorageReport", request, context)
        col = rpb.CollectionStorage(
            project=request.project or "demo",
            name="m",
            versions=3,
            deleted_versions=1,
            logical_bytes=3000,
            referenced_bytes=1200,
        )
        return rpb.GetStorageReportResponse(
            blobs_stored=10, bytes_stored=5000, collections=[col], reclaimable_blobs=2, reclaimable_bytes=300
        )


class Admin(adgrpc.AdminServiceServicer):
    async def RebuildProjections(self, request, context):
        if not request.confirm:  # as the real gateway: the SDK must send it
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "RebuildProjections requires confirm=true")
        rebuilds = [adpb.ProjectionRebuild(service=s, events_replayed=n) for s, n in (("ingest", 7), ("lineage", 3))]
        return adpb.RebuildProjectionsResponse(rebuilds=rebuilds)


class FakeGateway:
    """Starts the fake server on 127.0.0.1:<free port> in a background thread."""

    def __init__(self) -> None:
        self.state = State()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="fake-gateway")
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.address = f"127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self.server = grpc.aio.server()
        bgrpc.add_BlobServiceServicer_to_server(Blobs(self.state), self.server)
        agrpc.add_ArtifactServiceServicer_to_server(Artifacts(self.state), self.server)
        adgrpc.add_AdminServiceServicer_to_server(Admin(), self.server)
        rgrpc.add_RetentionServiceServicer_to_server(Retention(self.state), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(None), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
