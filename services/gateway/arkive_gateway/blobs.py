"""BlobService: bytes in and out. The gateway hashes every byte it receives and registers the blob
in the content index only when the sha256 matches; until then the object sits at a unique key no
read path knows, so a bad or half-finished upload is never visible."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import grpc
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound
from arkive_core.validation import check_digest, check_size

from arkive_common import api
from arkive_common.blobstore import BlobStore
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import blob_service_pb2 as pb
from arkive_proto.v1 import blob_service_pb2_grpc as pb_grpc

from . import composite, packs
from .direct import DirectTransfers, key_of
from .errors import streaming, unary

MAX_FIND = 10_000


def object_key(digest: str) -> str:
    """A fresh key for one upload of digest (each upload its own: see the module docstring)."""
    return key_of(digest, uuid.uuid4().hex)


class BlobServicer(pb_grpc.BlobServiceServicer):
    def __init__(self, rpc: RpcClient, store: BlobStore) -> None:
        self.rpc = rpc
        self.store = store
        self.direct: DirectTransfers | None = None  # set by the server once its S3 probe ran

    async def stat(self, digests: list[str], lease: bool = False) -> dict[str, api.BlobInfo]:
        # lease: the client will rely on these blobs (skip their upload), so GC keeps them.
        infos = await self.rpc.call(HASHING.lease if lease else HASHING.stat, api.StatBlobs(digests))
        return {b.digest: b for b in infos.blobs}

    @unary
    async def FindMissingBlobs(self, request: pb.FindMissingBlobsRequest, context) -> pb.FindMissingBlobsResponse:
        if len(request.digests) > MAX_FIND:
            raise InvalidArgument(f"at most {MAX_FIND} digests per call")
        digests = list(dict.fromkeys(request.digests))
        for d in digests:
            check_digest(d)
        present = await self.stat(digests, lease=True)
        return pb.FindMissingBlobsResponse(missing=[d for d in digests if d not in present])

    @unary
    async def UploadBlob(self, request_iterator: AsyncIterator[pb.UploadBlobRequest], context) -> pb.UploadBlobResponse:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("payload") != "header":
            raise InvalidArgument("the first message of UploadBlob must be the header (digest, size)")
        digest = check_digest(first.header.digest)
        size = check_size(first.header.size)
        present = (await self.stat([digest], lease=True)).get(digest)
        if present is not None:
            if present.size != size:
                raise InvalidArgument(f"blob {digest} has {present.size} bytes, not {size}")
            # Already stored: the bytes still in flight are read and dropped (and counted).
            dropped = 0
            async for msg in request_iterator:
                dropped += len(msg.chunk)
            await self.rpc.call(HASHING.count_received, api.CountReceived(dropped))
            return pb.UploadBlobResponse(digest=digest, size=size, already_present=True)
        key = object_key(digest)
        writer = self.store.writer(key)
        h = hashlib.sha256()
        received = 0
        try:
            async for msg in request_iterator:
                if msg.WhichOneof("payload") != "chunk":
                    raise InvalidArgument("UploadBlob takes one header, then only chunks")
                chunk = msg.chunk  # each attribute access copies the bytes (1 MiB) out of the message
                received += len(chunk)
                if received > size:
                    raise InvalidArgument(f"upload of {digest} is longer than the declared {size} bytes")
                # Off the event loop (hashlib releases the GIL): the loop serves every other call.
                await asyncio.to_thread(h.update, chunk)
                await writer.write(chunk)
            if received != size:
                raise InvalidArgument(f"upload of {digest} ended after {received} of {size} bytes")
            actual = "sha256:" + h.hexdigest()
            if actual != digest:
                raise InvalidArgument(f"digest mismatch: the bytes hash to {actual}, not {digest}")
            await writer.complete()
        except BaseException:
            await writer.abort()
            raise
        reg = await self.rpc.call(HASHING.register, api.RegisterBlob(digest, size, key, received))
        if reg.already_present and reg.blob.key != key:  # a concurrent upload of the same bytes won
            await self.store.delete(key)  # (our own key: a re-sent registration stored it: keep it)
        return pb.UploadBlobResponse(digest=digest, size=size, already_present=reg.already_present)

    @streaming
    async def DownloadBlob(self, request: pb.DownloadBlobRequest, context: grpc.aio.ServicerContext):
        digest = check_digest(request.digest)
        if request.offset < 0:
            raise InvalidArgument("offset must not be negative")
        info = (await self.stat([digest])).get(digest)
        if info is None:
            raise NotFound(f"blob {digest} not found")
        if request.offset > info.size:
            raise InvalidArgument(f"offset {request.offset} is past the end of {digest} ({info.size} bytes)")
        if request.offset == info.size:
            return
        if composite.is_composite(info):  # chunk dedup: the bytes are its recipe's chunks
            async for chunk in composite.read_composite(self.rpc, self.store, info, request.offset):
                yield pb.DownloadBlobResponse(chunk=chunk)
            return
        base = max(info.offset, 0)  # a packed blob starts at its offset in the pack object
        async for chunk in self.store.read(info.key, base + request.offset, info.size - request.offset):
            yield pb.DownloadBlobResponse(chunk=chunk)

    @unary
    async def StartDirectUpload(self, request: pb.StartDirectUploadRequest, context) -> pb.StartDirectUploadResponse:
        if self.direct is None:
            raise FailedPrecondition("direct uploads are off on this server; use UploadBlob")
        return await self.direct.start(request)

    @unary
    async def FinishDirectUpload(self, request: pb.FinishDirectUploadRequest, context) -> pb.FinishDirectUploadResponse:
        if self.direct is None:
            raise FailedPrecondition("direct uploads are off on this server; use UploadBlob")
        return await self.direct.finish(request)

    @unary
    async def GetDownloadUrls(self, request: pb.GetDownloadUrlsRequest, context) -> pb.GetDownloadUrlsResponse:
        if self.direct is None:
            raise FailedPrecondition("direct transfers are off on this server; use DownloadBlob")
        return await self.direct.download_urls(request)

    @unary
    async def UploadBlobs(self, request_iterator, context) -> pb.UploadBlobsResponse:
        return await packs.upload_pack(request_iterator, self.store, self.rpc)

    @streaming
    async def DownloadBlobs(self, request: pb.DownloadBlobsRequest, context: grpc.aio.ServicerContext):
        if len(request.digests) > MAX_FIND:
            raise InvalidArgument(f"at most {MAX_FIND} digests per DownloadBlobs call")
        infos = await self.stat(list(dict.fromkeys(request.digests))) if request.digests else {}
        async for msg in packs.download_many(list(request.digests), self.store, infos, self.rpc):
            yield msg

    @unary
    async def ComposeBlob(self, request_iterator, context) -> pb.ComposeBlobResponse:
        return await composite.compose(request_iterator, self.rpc, self.store)
