"""Uploading many small files as packs: one UploadBlobs stream carries hundreds of blobs, which the
server stores in one object, so a folder of thousands of small files costs a handful of requests
instead of one round trip (and one S3 PUT) per file."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from arkive_proto.v1 import blob_service_pb2 as bpb

from ._files import HashedFile
from ._progress import NullProgress
from ._rpc import RETRY_ATTEMPTS, retry_delay, rpc_error, should_retry

PACK_MAX_FILE = 1024 * 1024  # larger files go one stream each
PACK_MAX_BYTES = 8 * 1024 * 1024
PACK_MAX_FILES = 1000
PACK_CONCURRENCY = 4
INLINE_BYTES = 1024 * 1024  # per UploadBlobs message (the gateway accepts up to 16 MiB)


def split_for_packing(files: list[HashedFile]) -> tuple[list[list[HashedFile]], list[HashedFile]]:
    """(packs of small files, large files to send alone)."""
    small = [f for f in files if f.size <= PACK_MAX_FILE]
    large = [f for f in files if f.size > PACK_MAX_FILE]
    packs: list[list[HashedFile]] = []
    current: list[HashedFile] = []
    size = 0
    for f in small:
        if current and (size + f.size > PACK_MAX_BYTES or len(current) >= PACK_MAX_FILES):
            packs.append(current)
            current, size = [], 0
        current.append(f)
        size += f.size
    if current:
        packs.append(current)
    return packs, large


def _read_all(pack: list[HashedFile]) -> list[bytes | None]:
    """Reads (and re-hashes) every member in one thread hop; None marks a file changed since hashing."""
    out: list[bytes | None] = []
    for f in pack:
        try:
            data = Path(f.source).read_bytes()
        except OSError:
            out.append(None)
            continue
        ok = len(data) == f.size and "sha256:" + hashlib.sha256(data).hexdigest() == f.digest
        out.append(data if ok else None)
    return out


async def upload_pack(stub: object, pack: list[HashedFile], address: str, progress: NullProgress) -> None:
    contents = await asyncio.to_thread(_read_all, pack)
    changed = [f for f, data in zip(pack, contents, strict=True) if data is None]
    if changed:
        from arkive_common.errors import FailedPrecondition

        raise FailedPrecondition(f"{changed[0].source} changed while it was being logged; log again")

    async def messages() -> AsyncIterator[bpb.UploadBlobsRequest]:
        # Whole blobs, about INLINE_BYTES to a message: gRPC's cost is per message, and a header
        # plus a chunk per file would double thousands of messages for 16 KiB files.
        batch: list[bpb.InlineBlob] = []
        size = 0
        for f, data in zip(pack, contents, strict=True):
            batch.append(bpb.InlineBlob(digest=f.digest, size=f.size, data=data))
            size += f.size
            if size >= INLINE_BYTES:
                yield bpb.UploadBlobsRequest(blobs=bpb.InlineBlobs(blobs=batch))
                batch, size = [], 0
        if batch:
            yield bpb.UploadBlobsRequest(blobs=bpb.InlineBlobs(blobs=batch))

    total = sum(f.size for f in pack)
    for attempt in range(RETRY_ATTEMPTS):
        try:
            await stub.UploadBlobs(messages())  # type: ignore[attr-defined]
        except grpc.aio.AioRpcError as exc:
            if should_retry(exc, attempt):  # content-addressed: sending a pack again is harmless
                await asyncio.sleep(retry_delay(attempt))
                continue
            raise rpc_error(exc, address) from None
        progress.advance(total)
        return
