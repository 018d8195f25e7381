"""Uploading missing blobs, streamed: 1 MiB chunks read from disk as gRPC asks for them, so a
large file is never held in memory. Also the bounded-concurrency helper downloads share.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from arkive_core.errors import ArkiveError, Code

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import Retry, call_idempotent
from .chunked import upload_chunked
from .direct import upload_direct
from .early import EarlyPack, EarlyPacks
from .files import CHUNK_SIZE, HashedFile, batched, changed, differs
from .http import DirectState
from .packs import PACK_CONCURRENCY, split_for_packing, upload_pack
from .progress import NullProgress
from .wire import BlobStub, chunk_request

T = TypeVar("T")
FIND_MISSING_BATCH = 10_000
UPLOAD_CONCURRENCY = 8
DOWNLOAD_CONCURRENCY = 8
# Uploads are content-addressed, so sending a blob twice is harmless: they follow the retry policy
# of idempotent calls (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED within the retry deadline; see _rpc).


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


@dataclass(slots=True)
class _SendState:
    sent: int = 0
    changed: bool = False


async def find_missing(stub: BlobStub, digests: list[str], address: str, timeout: float) -> set[str]:
    missing: set[str] = set()
    for batch in batched(digests, FIND_MISSING_BATCH):
        request = bpb.FindMissingBlobsRequest(digests=batch)
        resp = await call_idempotent(stub.FindMissingBlobs, request, address, timeout, Retry.of(stub))
        missing.update(resp.missing)
    return missing


# A coroutine function: each call's coroutine becomes a task (asyncio.create_task takes no other awaitable).
OnStored = Callable[[list[str]], Coroutine[Any, Any, None]]
LARGE_STORED_BATCH = 64  # large files stored before on_stored hears of them (fewer, bigger calls)


async def upload_missing(
    stub: BlobStub,
    files: list[HashedFile],
    address: str,
    timeout: float,
    progress: NullProgress,
    on_stored: OnStored | None = None,
    missing: set[str] | None = None,
    on_last: Callable[[list[str]], None] | None = None,
    early: EarlyPacks | None = None,
) -> tuple[int, int]:
    """Uploads the blobs the server lacks (each distinct digest once); returns (files, bytes) sent.

    on_stored(digests), if given, runs beside the uploads for each group of digests the server
    holds: first those it already had, then each pack and batch of large files once stored. A
    log adds those files to its draft meanwhile, instead of one AddFiles pass after every upload.
    Its first failure (or an upload's) cancels the rest and is raised. missing: what
    FindMissingBlobs answered for these files' digests, if the caller asked already.
    on_last(digests), if given, gets the group stored when nothing else was left in flight,
    instead of on_stored: a log sends those files with its commit (one round trip less).
    early: packs that started while hashing (see _early); their digests are not asked about or
    sent again here (missing must not cover them), and their files count as stored when they are.
    """
    asked = early.asked if early is not None else set()
    by_digest: dict[str, HashedFile] = {}
    for f in files:
        if f.digest not in asked:
            by_digest.setdefault(f.digest, f)
    if missing is None:  # else the caller asked already (beside another call)
        missing = await find_missing(stub, list(by_digest), address, timeout)
    # Ignore digests we did not ask about: a confused server must not make us upload nonsense.
    todo = [f for d, f in by_digest.items() if d in missing]
    followers = _Followers(on_stored, on_last)
    early_tasks = early.tasks if early is not None else []
    early_sent: list[HashedFile] = []

    async def early_one(task: asyncio.Task[EarlyPack]) -> None:
        got = await task
        early_sent.extend(got.sent)
        progress.advance(got.size)
        followers.stored(got.present + [f.digest for f in got.sent], done=1)

    lanes: list[asyncio.Task[None]] = []
    try:
        total = sum(f.size for f in todo)
        progress.phase("uploading", total + (early.asked_bytes if early is not None else 0))
        packs, large = split_for_packing(todo)
        # The chunked step below counts as one upload.
        followers.expect(len(packs) + (1 if large else 0) + len(early_tasks))
        followers.stored([d for d in by_digest if d not in missing])
        lanes = [asyncio.create_task(early_one(t)) for t in early_tasks]
        # Large files partly on the server (an earlier version) go as their missing chunks.
        rest, saved = await upload_chunked(stub, large, address, timeout, progress)
        left = {id(f) for f in rest}
        followers.expect(len(rest))
        followers.stored([f.digest for f in large if id(f) not in left], done=1 if large else 0)

        async def pack(p: list[HashedFile]) -> None:
            await upload_pack(stub, p, address, progress)
            followers.stored([f.digest for f in p], done=1)

        direct = DirectState()

        async def one(f: HashedFile) -> None:
            if not await upload_direct(stub, f, address, timeout, progress, direct):
                await _upload_one(stub, f, address, progress)
            followers.stored([f.digest], LARGE_STORED_BATCH, done=1)

        await run_bounded(packs, pack, PACK_CONCURRENCY)
        await run_bounded(rest, one, UPLOAD_CONCURRENCY)
        for lane in lanes:
            await lane
        followers.flush()
        await followers.wait()
    except BaseException:
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        await followers.cancel()
        raise
    return len(todo) + len(early_sent), total - saved + sum(f.size for f in early_sent)


class _Followers:
    """The on_stored calls of one upload, as tasks; digests can be held back to make batches.

    It counts the uploads still to finish (expect, then done=1 per upload stored): the digests
    held when none is left go to on_last, if given, rather than to one more on_stored call.
    """

    def __init__(self, on_stored: OnStored | None, on_last: Callable[[list[str]], None] | None = None) -> None:
        self._on_stored = on_stored
        self._on_last = on_last
        self._tasks: list[asyncio.Task[None]] = []
        self._held: list[str] = []
        self._pending = 0

    def expect(self, uploads: int) -> None:
        self._pending += uploads

    def stored(self, digests: list[str], batch: int = 0, done: int = 0) -> None:
        if self._on_stored is None:
            return
        self._pending -= done
        self._held += digests
        if self._on_last is not None and self._pending <= 0:
            self._on_last(self._held)
            self._held = []
        elif len(self._held) >= batch:
            self.flush()
        for t in self._tasks:  # fail fast: an add refused must not wait for every upload
            if t.done() and not t.cancelled() and (error := t.exception()) is not None:
                raise error

    def flush(self) -> None:
        if self._on_stored is not None and self._held:
            self._tasks.append(asyncio.create_task(self._on_stored(self._held)))
            self._held = []

    async def wait(self) -> None:
        for t in self._tasks:
            await t

    async def cancel(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _upload_one(stub: BlobStub, f: HashedFile, address: str, progress: NullProgress) -> None:
    retry = Retry.of(stub)
    while True:
        await retry.connect(address)
        state = _SendState()
        try:
            resp = await stub.UploadBlobEncoded(_upload_requests(f, state, progress))
        except grpc.aio.AioRpcError as exc:
            progress.advance(-state.sent)
            if state.changed or (exc.code() == grpc.StatusCode.INVALID_ARGUMENT and await differs(f)):
                raise changed(f) from None
            if await retry.pause(exc):
                continue
            raise retry.error(exc, address) from None
        if state.changed:
            raise changed(f)
        if resp.digest and resp.digest != f.digest:
            raise ArkiveError(f"server stored {f.path!r} as {resp.digest}, expected {f.digest}", Code.INTERNAL)
        return


async def _upload_requests(f: HashedFile, state: _SendState, progress: NullProgress) -> AsyncIterator[bytes]:
    """Header, then the file in 1 MiB chunks read as gRPC asks for them.

    It never raises (an exception here would surface as an opaque cancelled call): a file that
    changed stops the stream short, which the server rejects, and state.changed says why.
    """
    yield bpb.UploadBlobRequest(header=bpb.UploadBlobHeader(digest=f.digest, size=f.size)).SerializeToString()
    if f.size <= CHUNK_SIZE:
        # Small files (most of a typical dataset) in one thread hop: read, hash, done.
        data, digest = await asyncio.to_thread(_read_small, f.source, f.size)
        if len(data) != f.size or digest != f.digest:
            state.changed = True
            return
        if data:
            state.sent = len(data)
            progress.advance(len(data))
            yield chunk_request(data)
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
            yield chunk_request(chunk)
    finally:
        src.close()
    if state.sent != f.size:
        state.changed = True


def _read_small(path: Path, size: int) -> tuple[bytes, str]:
    with open(path, "rb") as src:
        data = src.read(size + 1)  # one byte more reveals a file that grew
    return data, "sha256:" + hashlib.sha256(data).hexdigest()
