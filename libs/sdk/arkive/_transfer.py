"""Uploading missing blobs, streamed: 1 MiB chunks read from disk as gRPC asks for them, so a
large file is never held in memory. Also the bounded-concurrency helper downloads share.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc

from arkive_common.errors import ArkiveError, Code, FailedPrecondition
from arkive_proto.v1 import blob_service_pb2 as bpb

from ._chunked import upload_chunked
from ._files import CHUNK_SIZE, HashedFile, batched, hash_file
from ._packs import PACK_CONCURRENCY, split_for_packing, upload_pack
from ._progress import NullProgress
from ._rpc import RETRY_ATTEMPTS, call_idempotent, retry_delay, rpc_error, should_retry

T = TypeVar("T")
FIND_MISSING_BATCH = 10_000
UPLOAD_CONCURRENCY = 8
DOWNLOAD_CONCURRENCY = 8
ATTEMPTS = 3  # per download, only for UNAVAILABLE (gateway restarting, connection reset)
# Uploads are content-addressed, so sending a blob twice is harmless: they follow the retry policy
# of idempotent calls (RETRY_ATTEMPTS on UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED; see _rpc).


async def run_bounded(items: Iterable[T], worker: Callable[[T], Awaitable[None]], limit: int) -> None:
    """Runs worker over items with at most `limit` in flight; the first failure cancels the rest.

    A few long-lived lanes pulling from one iterator, rather than one task per item, keeps memory
    flat for hundreds of thousands of files.
    """
    it = iter(items)

    async def lane() -> None:
        for item in it:  # next() never awaits, so lanes cannot take the same item
            await worker(item)

    tasks = [asyncio.create_task(lane()) for _ in range(limit)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def retry_pause(attempt: int) -> None:
    await asyncio.sleep(retry_delay(attempt))


@dataclass(slots=True)
class _SendState:
    sent: int = 0
    changed: bool = False


async def find_missing(stub: object, digests: list[str], address: str, timeout: float) -> set[str]:
    missing: set[str] = set()
    for batch in batched(digests, FIND_MISSING_BATCH):
        request = bpb.FindMissingBlobsRequest(digests=batch)
        resp = await call_idempotent(stub.FindMissingBlobs, request, address, timeout)  # type: ignore[attr-defined]
        missing.update(resp.missing)
    return missing


async def upload_missing(
    stub: object, files: list[HashedFile], address: str, timeout: float, progress: NullProgress
) -> tuple[int, int]:
    """Uploads the blobs the server lacks (each distinct digest once); returns (files, bytes) sent."""
    by_digest: dict[str, HashedFile] = {}
    for f in files:
        by_digest.setdefault(f.digest, f)
    missing = await find_missing(stub, list(by_digest), address, timeout)
    # Ignore digests we did not ask about: a confused server must not make us upload nonsense.
    todo = [f for d, f in by_digest.items() if d in missing]
    total = sum(f.size for f in todo)
    progress.phase("uploading", total)
    packs, large = split_for_packing(todo)
    # Large files partly on the server (an earlier version) go as their missing chunks.
    large, saved = await upload_chunked(stub, large, address, timeout, progress)
    await run_bounded(packs, lambda p: upload_pack(stub, p, address, progress), PACK_CONCURRENCY)
    await run_bounded(large, lambda f: _upload_one(stub, f, address, progress), UPLOAD_CONCURRENCY)
    return len(todo), total - saved


async def _upload_one(stub: object, f: HashedFile, address: str, progress: NullProgress) -> None:
    for attempt in range(RETRY_ATTEMPTS):
        state = _SendState()
        try:
            resp = await stub.UploadBlob(_upload_requests(f, state, progress))  # type: ignore[attr-defined]
        except grpc.aio.AioRpcError as exc:
            progress.advance(-state.sent)
            if state.changed or (exc.code() == grpc.StatusCode.INVALID_ARGUMENT and await _differs(f)):
                raise _changed(f) from None
            if should_retry(exc, attempt):
                await retry_pause(attempt)
                continue
            raise rpc_error(exc, address) from None
        if state.changed:
            raise _changed(f)
        if resp.digest and resp.digest != f.digest:
            raise ArkiveError(f"server stored {f.path!r} as {resp.digest}, expected {f.digest}", Code.INTERNAL)
        return


async def _differs(f: HashedFile) -> bool:
    """Whether the file no longer has the content it was hashed with (the server refused the bytes)."""
    try:
        return await asyncio.to_thread(hash_file, f.source) != (f.digest, f.size)
    except OSError:
        return True


def _changed(f: HashedFile) -> FailedPrecondition:
    return FailedPrecondition(f"{f.source} changed while it was being logged; log again")


async def _upload_requests(
    f: HashedFile, state: _SendState, progress: NullProgress
) -> AsyncIterator[bpb.UploadBlobRequest]:
    """Header, then the file in 1 MiB chunks read as gRPC asks for them.

    It never raises (an exception here would surface as an opaque cancelled call): a file that
    changed stops the stream short, which the server rejects, and state.changed says why.
    """
    yield bpb.UploadBlobRequest(header=bpb.UploadBlobHeader(digest=f.digest, size=f.size))
    if f.size <= CHUNK_SIZE:
        # Small files (most of a typical dataset) in one thread hop: read, hash, done.
        data, digest = await asyncio.to_thread(_read_small, f.source, f.size)
        if len(data) != f.size or digest != f.digest:
            state.changed = True
            return
        if data:
            state.sent = len(data)
            progress.advance(len(data))
            yield bpb.UploadBlobRequest(chunk=data)
        return
    # Large files are not hashed again here: the server hashes every byte and refuses a mismatch,
    # after which _upload_one re-hashes the file to report it as changed (one sha256 pass less per
    # upload, on a machine where client, gateway and S3 share the cores).
    src = await asyncio.to_thread(open, f.source, "rb")
    try:
        while True:
            chunk = await asyncio.to_thread(src.read, CHUNK_SIZE)
            if not chunk:
                break
            if state.sent + len(chunk) > f.size:
                state.changed = True  # grew since hashing
                return
            state.sent += len(chunk)
            progress.advance(len(chunk))
            yield bpb.UploadBlobRequest(chunk=chunk)
    finally:
        src.close()
    if state.sent != f.size:
        state.changed = True


def _read_small(path: Path, size: int) -> tuple[bytes, str]:
    with open(path, "rb") as src:
        data = src.read(size + 1)  # one byte more reveals a file that grew
    return data, "sha256:" + hashlib.sha256(data).hexdigest()
