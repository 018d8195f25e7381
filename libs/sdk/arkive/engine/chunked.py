"""Chunk dedup for large files (docs/architecture.md, "Chunk dedup"): a large file the server lacks
is sent as content-defined chunks when the server already holds some of them (an earlier version of
the file), so a small edit re-sends a few chunks instead of the whole file.

Deciding must be cheap for brand-new data: chunk a few 512 KiB windows of each large file (dropping
each window's first and last chunk: the chunker resyncs after the first cut), every file at once in
threads, and ask one FindMissingBlobs for all the samples. Only if one sample chunk of a file is
present is that whole file chunked (in a thread, streaming), the missing chunks uploaded as packs
and the file registered with ComposeBlob; otherwise the caller uploads it whole, exactly as before.
The server verifies the composed bytes against the whole-file sha256.

The numpy chunker runs at ~60 MB/s here, so the samples are the decision's cost: 3 x 1 MiB windows
of two 128 MiB files, one file after the other, took 0.09-0.12 s before any byte of a first log
was sent; 3 x 512 KiB per file, in parallel, with one round trip, take about a third of that.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import grpc
from arkive_core import cdc

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import Retry, call_idempotent
from .files import HashedFile, changed
from .packs import PACK_CONCURRENCY, PACK_MAX_BYTES, PACK_MAX_FILES
from .progress import NullProgress
from .wire import BlobStub

SAMPLE_WINDOW = 512 * 1024  # ~8 chunks of 64 KiB: 6 samples a window after the edges are dropped
SAMPLES = 3
FIND_BATCH = 10_000
COMPOSE_BATCH = 10_000
READ_BLOCK = 4 * 1024 * 1024

Chunk = tuple[str, int, int]  # digest, size, offset in the file


def _sample(f: HashedFile) -> list[str]:
    """Digests of chunks from SAMPLES windows spread over the file (not the windows' edges)."""
    out: list[str] = []
    with open(f.source, "rb") as src:
        for i in range(1, SAMPLES + 1):
            src.seek(max(0, f.size * i // (SAMPLES + 1) - SAMPLE_WINDOW // 2))
            window = src.read(SAMPLE_WINDOW)
            out += [d for d, _, _ in list(cdc.digest_chunks([window]))[1:-1]]
    return out


def _chunk_file(f: HashedFile) -> list[Chunk] | None:
    """Every chunk of the file, streaming; None if the file changed since it was hashed."""
    digester = cdc.ChunkDigester()
    whole = hashlib.sha256()
    chunks: list[Chunk] = []
    size = 0
    with open(f.source, "rb") as src:
        for block in cdc.read_blocks(src, READ_BLOCK):
            whole.update(block)
            size += len(block)
            chunks += digester.feed(block)
    chunks += digester.finish()
    if size != f.size or "sha256:" + whole.hexdigest() != f.digest:
        return None
    return chunks


def _read_chunks(f: HashedFile, chunks: list[Chunk]) -> list[bytes] | None:
    out = []
    with open(f.source, "rb") as src:
        for digest, size, offset in chunks:
            src.seek(offset)
            data = src.read(size)
            if len(data) != size or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                return None
            out.append(data)
    return out


async def _missing(stub: BlobStub, digests: list[str], address: str, timeout: float) -> set[str]:
    missing: set[str] = set()
    for i in range(0, len(digests), FIND_BATCH):
        req = bpb.FindMissingBlobsRequest(digests=digests[i : i + FIND_BATCH])
        resp = await call_idempotent(stub.FindMissingBlobs, req, address, timeout, Retry.of(stub))
        missing.update(resp.missing)
    return missing


async def _upload_pack(stub: BlobStub, f: HashedFile, pack: list[Chunk], address: str) -> None:
    contents = await asyncio.to_thread(_read_chunks, f, pack)
    if contents is None:
        raise changed(f)

    async def messages() -> AsyncIterator[bpb.UploadBlobsRequest]:
        for (digest, size, _), data in zip(pack, contents, strict=True):
            yield bpb.UploadBlobsRequest(header=bpb.UploadBlobHeader(digest=digest, size=size))
            yield bpb.UploadBlobsRequest(chunk=data)

    retry = Retry.of(stub)
    while True:
        await retry.connect(address)
        try:
            await stub.UploadBlobs(messages())
            return
        except grpc.aio.AioRpcError as exc:
            if not await retry.pause(exc):  # content-addressed: sending again is harmless
                raise retry.error(exc, address) from None


def _packs(chunks: list[Chunk]) -> list[list[Chunk]]:
    packs: list[list[Chunk]] = [[]]
    size = 0
    for c in chunks:
        if packs[-1] and (size + c[1] > PACK_MAX_BYTES or len(packs[-1]) >= PACK_MAX_FILES):
            packs.append([])
            size = 0
        packs[-1].append(c)
        size += c[1]
    return [p for p in packs if p]


async def _compose(stub: BlobStub, f: HashedFile, digests: list[str], address: str, timeout: float) -> None:
    def messages() -> list[bpb.ComposeBlobRequest]:
        batches = [digests[i : i + COMPOSE_BATCH] for i in range(0, len(digests), COMPOSE_BATCH)]
        first = bpb.ComposeBlobRequest(digest=f.digest, size=f.size, chunks=batches[0])
        return [first, *(bpb.ComposeBlobRequest(chunks=b) for b in batches[1:])]

    retry = Retry.of(stub)
    while True:
        await retry.connect(address)
        try:
            await stub.ComposeBlob(iter(messages()), timeout=max(timeout, 600.0))
            return
        except grpc.aio.AioRpcError as exc:
            if not await retry.pause(exc):
                raise retry.error(exc, address) from None


async def _send_chunked(stub: BlobStub, f: HashedFile, address: str, timeout: float, progress: NullProgress) -> int:
    """Sends the file as its missing chunks plus a ComposeBlob; returns the bytes sent."""
    chunks = await asyncio.to_thread(_chunk_file, f)
    if chunks is None:
        raise changed(f)
    distinct: dict[str, Chunk] = {}
    for c in chunks:
        distinct.setdefault(c[0], c)
    missing = await _missing(stub, list(distinct), address, timeout)
    todo = [c for d, c in distinct.items() if d in missing]
    lanes = iter(_packs(todo))

    async def lane() -> None:
        for pack in lanes:
            await _upload_pack(stub, f, pack, address)
            progress.advance(sum(c[1] for c in pack))

    await asyncio.gather(*(lane() for _ in range(PACK_CONCURRENCY)))
    await _compose(stub, f, [c[0] for c in chunks], address, timeout)
    sent = sum(c[1] for c in todo)
    progress.advance(f.size - sent)  # the rest of the file is on the server already
    return sent


async def _partly_stored(stub: BlobStub, files: list[HashedFile], address: str, timeout: float) -> list[bool]:
    """For each file, whether the server holds one of its sample chunks (an earlier version)."""
    samples = await asyncio.gather(*(asyncio.to_thread(_sample, f) for f in files))
    asked = sorted({d for s in samples for d in s})
    missing = await _missing(stub, asked, address, timeout) if asked else set()
    return [any(d not in missing for d in s) for s in samples]


async def upload_chunked(
    stub: BlobStub, files: list[HashedFile], address: str, timeout: float, progress: NullProgress
) -> tuple[list[HashedFile], int]:
    """Sends the large files whose chunks the server partly holds; returns (files left to upload
    whole, bytes saved compared to sending the chunked files whole)."""
    candidates = [f for f in files if f.size >= cdc.CHUNKED_FROM]
    partly = dict(zip(map(id, candidates), await _partly_stored(stub, candidates, address, timeout), strict=True))
    rest: list[HashedFile] = []
    saved = 0
    for f in files:
        if partly.get(id(f), False):
            saved += f.size - await _send_chunked(stub, f, address, timeout, progress)
        else:
            rest.append(f)
    return rest, saved
