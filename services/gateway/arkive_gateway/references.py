"""ReferenceService: reference entries (data outside arkive, never copied) and register (objects
already in arkive's bucket, indexed where they are). See ref_sources.py and ssrf.py."""

from __future__ import annotations

import asyncio

import grpc
from arkive_core.errors import InvalidArgument
from arkive_core.refs import parse_ref
from arkive_core.validation import check_digest, check_path, check_size

from arkive_common import api_refs as ar
from arkive_common.blobstore import BlobStore
from arkive_common.config import Settings
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import reference_service_pb2 as pb
from arkive_proto.v1 import reference_service_pb2_grpc as pb_grpc
from arkive_proto.v1 import types_pb2

from . import artifact_refs, register
from .errors import streaming, unary
from .ref_sources import HttpSource, S3Source, entry_path
from .ssrf import AllowList, SafeHttp

MAX_SPECS = 100
RESOLVE_CONCURRENCY = 8


def reference_store(s: Settings) -> BlobStore:
    """The S3 client of s3:// references: the blob store's endpoint and keys unless overridden."""
    return BlobStore(
        s.reference_s3_endpoint or s.s3_endpoint,
        s.reference_s3_access_key or s.s3_access_key,
        s.reference_s3_secret_key or s.s3_secret_key,
        "",
        s.s3_region,
    )


def to_proto(e: ar.RefEntry) -> types_pb2.FileEntry:
    ref = types_pb2.Reference(uri=e.uri, etag=e.etag, version_id=e.version_id, checksum=e.checksum)
    return types_pb2.FileEntry(path=e.path, digest=e.digest, size=e.size, reference=ref)


class ReferenceServicer(pb_grpc.ReferenceServiceServicer):
    def __init__(self, rpc: RpcClient, settings: Settings, ref_store: BlobStore, store: BlobStore) -> None:
        self.rpc = rpc
        self.settings = settings
        self.store = store  # arkive's own bucket (register)
        self.http = SafeHttp(AllowList(settings.reference_allow))
        internal = "" if settings.reference_s3_endpoint else settings.s3_bucket
        self.s3 = S3Source(ref_store, internal, settings.reference_s3_buckets)
        self.web = HttpSource(self.http)

    async def close(self) -> None:
        await self.http.close()

    async def _resolve(self, spec: pb.ReferenceSpec) -> list[ar.RefEntry]:
        uri = spec.uri
        if uri.startswith("s3://"):
            return await self.s3.resolve(spec)
        if uri.startswith(("http://", "https://")):
            return await self.web.resolve(spec)
        if uri.startswith("file://"):
            # The server cannot see the client's disk: the client hashed the file and says so.
            if not uri.startswith("file:///"):
                raise InvalidArgument(f"file references need an absolute path (file:///...), not {uri!r}")
            path = entry_path(spec.name, uri.rstrip("/").rsplit("/", 1)[-1])
            if not spec.checksum:
                return [ar.RefEntry(path, uri, checksum=False)]
            return [ar.RefEntry(path, uri, "", "", True, check_digest(spec.digest), check_size(spec.size))]
        if uri.startswith(artifact_refs.SCHEME):
            return await artifact_refs.resolve(self.rpc, uri, spec.name, spec.max_objects)
        raise InvalidArgument(f"unsupported reference {uri!r}: use s3://, http(s)://, file:/// or arkive://")

    @unary
    async def AddReferences(self, request: pb.AddReferencesRequest, context) -> pb.AddReferencesResponse:
        if not request.draft_id:
            raise InvalidArgument("draft_id is required")
        if len(request.references) > MAX_SPECS:
            raise InvalidArgument(f"at most {MAX_SPECS} references per call")
        sem = asyncio.Semaphore(RESOLVE_CONCURRENCY)

        async def one(spec: pb.ReferenceSpec) -> list[ar.RefEntry]:
            async with sem:
                return await self._resolve(spec)

        # Every source is resolved and checked before anything is added: a refusal adds nothing.
        resolved = await asyncio.gather(*(one(s) for s in request.references))
        entries = list({e.path: ar.check_entry(e) for batch in resolved for e in batch}.values())
        if len(entries) > ar.MAX_REFS_PER_CALL:
            raise InvalidArgument(f"at most {ar.MAX_REFS_PER_CALL} reference entries per call")
        for batch in ar.batches(entries):
            await self.rpc.call(INGEST.add_references, ar.AddReferences(request.draft_id, batch))
        return pb.AddReferencesResponse(entries=[to_proto(e) for e in entries])

    @streaming
    async def DownloadReference(self, request: pb.DownloadReferenceRequest, context: grpc.aio.ServicerContext):
        parse_ref(request.ref)
        check_path(request.path)
        if request.offset < 0:
            raise InvalidArgument("offset must not be negative")
        # The source comes from the version's manifest, never from the request.
        ref = await self.rpc.call(INGEST.get_reference, ar.GetReference(request.ref, request.path))
        if ref.checksum and ref.size and request.offset > ref.size:
            raise InvalidArgument(f"offset {request.offset} is past the end of {request.path} ({ref.size} bytes)")
        if ref.uri.startswith("s3://"):
            chunks = self.s3.read(ref, request.offset)
        elif ref.uri.startswith(("http://", "https://")):
            chunks = self.web.read(ref, request.offset)
        else:  # file:// from the client's disk, arkive:// as a blob by its digest (DownloadBlob)
            raise InvalidArgument(f"{request.path} is a {ref.uri.split(':')[0]} reference: read it on the client")
        async for chunk in chunks:
            yield pb.DownloadReferenceResponse(chunk=chunk)

    @unary
    async def RegisterObjects(self, request: pb.RegisterObjectsRequest, context) -> pb.RegisterObjectsResponse:
        return await register.register_objects(request, self.rpc, self.store)
