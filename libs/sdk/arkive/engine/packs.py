"""Uploading many small files as packs: one UploadBlobs stream carries hundreds of blobs, which the
server stores in one object, so a folder of thousands of small files costs a handful of requests
instead of one round trip (and one S3 PUT) per file."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from .._rpc import Retry
from .files import SMALL_FILE, HashedFile, changed
from .progress import NullProgress
from .statcache import stat_key
from .wire import BlobStub, inline_blobs_request

PACK_MAX_FILE = SMALL_FILE  # larger files go one stream each
PACK_MAX_BYTES = 8 * 1024 * 1024
PACK_MAX_FILES = 1000
PACK_CONCURRENCY = 2  # two packs in flight kept the gateway and S3 busier than four (measured, 2 cores)
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


def _contents(pack: list[HashedFile]) -> list[bytes | None]:
    """Each member's bytes, in one thread hop; None marks a file changed since it was hashed.

    Bytes kept from hashing (HashedFile.data) are sent as they are, once the file's stat shows it
    was not changed since; the others are read and hashed again.
    """
    out: list[bytes | None] = []
    for f in pack:
        try:
            if f.data is not None:
                out.append(f.data if stat_key(os.stat(f.source)) == f.stat else None)
                continue
            data = Path(f.source).read_bytes()
        except OSError:
            out.append(None)
            continue
        ok = len(data) == f.size and "sha256:" + hashlib.sha256(data).hexdigest() == f.digest
        out.append(data if ok else None)
    return out


async def upload_pack(stub: BlobStub, pack: list[HashedFile], address: str, progress: NullProgress) -> None:
    contents = await asyncio.to_thread(_contents, pack)
    stale = [f for f, data in zip(pack, contents, strict=True) if data is None]
    if stale:
        raise changed(stale[0])
    blobs = [data for data in contents if data is not None]  # all of them (a stale file was refused)

    async def messages() -> AsyncIterator[bytes]:
        # Whole blobs, about INLINE_BYTES to a message: gRPC's cost is per message, and a header
        # plus a chunk per file would double thousands of messages for 16 KiB files.
        batch: list[tuple[str, bytes]] = []
        size = 0
        for f, data in zip(pack, blobs, strict=True):
            batch.append((f.digest, data))
            size += f.size
            if size >= INLINE_BYTES:
                yield inline_blobs_request(batch)
                batch, size = [], 0
        if batch:
            yield inline_blobs_request(batch)

    total = sum(f.size for f in pack)
    retry = Retry.of(stub)
    while True:
        await retry.connect(address)
        try:
            await stub.UploadBlobsEncoded(messages())
        except grpc.aio.AioRpcError as exc:
            if await retry.pause(exc):  # content-addressed: sending a pack again is harmless
                continue
            raise retry.error(exc, address) from None
        progress.advance(total)
        return
