"""Downloading many small files in a few DownloadBlobs streams (the server reads neighbours in a
pack with one ranged request), each verified and written atomically like single downloads."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path
from typing import Any, TypeVar

import grpc
from arkive_core.errors import ArkiveError, Code, DataLoss, FailedPrecondition

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import Retry
from .cache import BlobCache
from .paths import safe_destination
from .place import copy_from_cache, prepare_destination
from .progress import NullProgress
from .transfer import run_bounded
from .types import FileInfo
from .wire import BlobStub

BATCH_MAX_FILE = 1024 * 1024
BATCH_MAX_BYTES = 32 * 1024 * 1024
BATCH_MAX_FILES = 2000
T = TypeVar("T")
_TMP_SEQ = itertools.count()
_TMP_TOKEN = os.urandom(4).hex()  # with the pid: unique across hosts sharing a folder too


def batches(files: list[FileInfo]) -> list[list[FileInfo]]:
    out: list[list[FileInfo]] = []
    current: list[FileInfo] = []
    size = 0
    for f in files:
        if current and (size + f.size > BATCH_MAX_BYTES or len(current) >= BATCH_MAX_FILES):
            out.append(current)
            current, size = [], 0
        current.append(f)
        size += f.size
    if current:
        out.append(current)
    return out


async def fetch_blobs(stub: BlobStub, want: dict[str, int], address: str) -> dict[str, bytes]:
    """digest -> verified bytes for every wanted (digest -> size) blob; retried as a whole."""
    retry = Retry.of(stub)
    while True:
        await retry.connect(address)
        got: dict[str, bytes] = {}
        current, buf = "", bytearray()
        request = bpb.DownloadBlobsRequest(digests=list(want))
        call = stub.DownloadBlobs(request)
        try:
            async for msg in call:
                kind = msg.WhichOneof("payload")
                if kind == "blobs":  # whole small blobs, many to a message
                    if current:
                        got[current] = _verified(current, buf, want)
                    current, buf = "", bytearray()
                    for b in msg.blobs.blobs:
                        if b.digest not in want:
                            raise ArkiveError(f"server sent blob {b.digest}, which was not asked for", Code.INTERNAL)
                        got[b.digest] = _verified(b.digest, b.data, want)
                elif kind == "header":
                    if current:
                        got[current] = _verified(current, buf, want)
                    current, buf = msg.header.digest, bytearray()
                    if current not in want:
                        raise ArkiveError(f"server sent blob {current}, which was not asked for", Code.INTERNAL)
                else:
                    buf += msg.chunk
                    if len(buf) > want.get(current, 0):
                        raise ArkiveError(f"server sent too many bytes for {current}", Code.INTERNAL)
            if current:
                got[current] = _verified(current, buf, want)
        except grpc.aio.AioRpcError as exc:
            if await retry.pause(exc):
                continue
            raise retry.error(exc, address) from None
        finally:
            if not call.done():
                call.cancel()
        lacking = set(want) - set(got)
        if lacking:
            raise ArkiveError(f"server did not send blob {sorted(lacking)[0]}", Code.INTERNAL)
        return got


def _verified(digest: str, buf: bytes | bytearray, want: dict[str, int]) -> bytes:
    data = bytes(buf)
    if len(data) != want[digest] or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise DataLoss(f"download of blob {digest} is corrupt (size or sha256 mismatch)", digests=[digest])
    return data


# The files of a batch are checked, written and cached in chunks, on a few threads at once: one
# thread hop per file (three of them, awaited in turn) made 2,000 small files take 3.5-8 s here,
# waiting on the disk one file at a time, when fetching their bytes took 0.3 s.
FILES_PER_HOP = 64
PARALLEL_HOPS = 4


async def download_batch(
    stub: BlobStub,
    real_root: Path,
    batch: list[FileInfo],
    address: str,
    progress: NullProgress,
    mode: int,
    cache: BlobCache | None,
    st: Any,
) -> None:
    """Writes one batch of small files, adding to the counters of st (see _download._Stats)."""
    todo: list[tuple[FileInfo, Path]] = []

    made: set[Path] = set()  # folders made (set.add is atomic: the hops share it)

    def prepare(chunk: list[FileInfo]) -> list[tuple[FileInfo, Path, str]]:
        out = []
        copies = st.stats.copies([f.digest for f in chunk]) if cache is not None and st.stats is not None else {}
        for f in chunk:
            dest, in_place = prepare_destination(real_root, f, st.stats, made)
            if in_place:
                out.append((f, dest, "in place"))
            elif cache is not None and copy_from_cache(cache, real_root, f, dest, mode, st.stats, copies):
                out.append((f, dest, "cached"))
            else:
                out.append((f, dest, ""))
        if cache is not None and st.stats is not None:  # files found in place are verified copies too
            st.stats.note_copies([(f.digest, str(dest), f.size) for f, dest, how in out if how == "in place"])
        return out

    async def prepared(chunk: list[FileInfo]) -> None:
        for f, dest, how in await asyncio.to_thread(prepare, chunk):
            if not how:
                todo.append((f, dest))
                continue
            if how == "in place":
                st.skipped += 1
            else:
                st.written += 1
                st.nbytes += f.size
                st.cached += 1
                st.cached_bytes += f.size
            progress.advance(f.size)

    await run_bounded(_chunks(batch), prepared, PARALLEL_HOPS)
    if not todo:
        return
    blobs = await fetch_blobs(stub, {f.digest: f.size for f, _ in todo}, address)
    st.downloaded += sum(len(b) for b in blobs.values())

    def write(chunk: list[tuple[FileInfo, Path]]) -> None:
        for f, dest in chunk:
            write_verified(real_root, f, dest, blobs[f.digest], mode)
        # Written once: later downloads copy (verified) from here, see _statcache.py.
        if cache is not None and st.stats is not None:
            st.stats.note_copies([(f.digest, str(dest), f.size) for f, dest in chunk])

    async def written(chunk: list[tuple[FileInfo, Path]]) -> None:
        await asyncio.to_thread(write, chunk)
        st.written += len(chunk)
        st.nbytes += sum(f.size for f, _ in chunk)
        progress.advance(sum(f.size for f, _ in chunk))

    await run_bounded(_chunks(todo), written, PARALLEL_HOPS)


def write_verified(real_root: Path, f: FileInfo, dest: Path, data: bytes, mode: int) -> None:
    """Writes bytes fetch_blobs already verified to a temp file beside dest and renames it into place
    (blocking). No Sink: hashing again, mkstemp's buffered file and a chmod cost more than the write
    for a 16 KiB file; the temp file is created with the final mode (the umask applies as to any new
    file) under a name nobody else picks."""
    tmp = dest.parent / f".arkive-{os.getpid()}-{_TMP_TOKEN}-{next(_TMP_SEQ)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        safe_destination(real_root, f.path)  # again: the tree may have changed while receiving
        try:
            os.replace(tmp, dest)
        except IsADirectoryError:
            raise FailedPrecondition(f"cannot write {f.path!r}: a folder is in the way") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _chunks(items: list[T]) -> list[list[T]]:
    return [items[i : i + FILES_PER_HOP] for i in range(0, len(items), FILES_PER_HOP)]
