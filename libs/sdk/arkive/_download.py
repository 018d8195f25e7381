"""Downloading a version's files: verified, atomic, never outside the destination root.

Each blob is collected in memory while small and spilled to a temp file next to its destination
once it passes 1 MiB, so large files never sit in memory; it is hashed on the way and renamed
into place only once size and sha256 match. Blocking file work runs in threads, batched into as
few hops as possible because per-file overhead dominates datasets of many small files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import grpc

from arkive_common.errors import ArkiveError, Code, FailedPrecondition
from arkive_proto.v1 import blob_service_pb2 as bpb

from ._download_batch import BATCH_MAX_FILE, batches, download_batch
from ._files import CHUNK_SIZE, artifact_path, hash_file
from ._paths import check_layout, safe_destination
from ._progress import NullProgress
from ._rpc import rpc_error
from ._transfer import ATTEMPTS, retry_pause, run_bounded
from .version import DownloadResult, FileInfo

DOWNLOAD_CONCURRENCY = 8
SPILL_BYTES = CHUNK_SIZE


def _umask() -> int:
    # The only portable way to read the umask is to set it; done once per download.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


async def download_files(
    stub: object, root: Path, files: list[FileInfo], address: str, progress: NullProgress
) -> DownloadResult:
    """Writes `files` under root (created if needed); returns what was written and skipped."""
    real_root, norm = await asyncio.to_thread(_plan, root, files)
    mode = 0o666 & ~_umask()
    counts = [0, 0, 0]  # files written, bytes written, files skipped
    progress.phase("downloading", sum(f.size for f in norm))

    async def one(f: FileInfo) -> None:
        n = await _download_one(stub, real_root, f, address, progress, mode)
        if n is None:
            counts[2] += 1
        else:
            counts[0] += 1
            counts[1] += n

    async def many(batch: list[FileInfo]) -> None:
        written, nbytes, skipped = await download_batch(stub, real_root, batch, address, progress, mode)
        counts[0] += written
        counts[1] += nbytes
        counts[2] += skipped

    # Small files travel many to a stream; large ones stream alone (resumable, bounded memory).
    await run_bounded(batches([f for f in norm if f.size <= BATCH_MAX_FILE]), many, 2)
    await run_bounded([f for f in norm if f.size > BATCH_MAX_FILE], one, DOWNLOAD_CONCURRENCY)
    return DownloadResult(path=root, files_written=counts[0], bytes_written=counts[1], files_skipped=counts[2])


def _plan(root: Path, files: list[FileInfo]) -> tuple[Path, list[FileInfo]]:
    """Validates every path and destination before the first byte is written."""
    root.mkdir(parents=True, exist_ok=True)
    real_root = root.resolve()
    norm = [FileInfo(_server_path(f.path), f.digest, f.size) for f in files]
    check_layout(f.path for f in norm)
    for f in norm:
        safe_destination(real_root, f.path)
    return real_root, norm


def _server_path(path: str) -> str:
    try:
        return artifact_path(path)
    except ArkiveError as exc:
        raise type(exc)(f"refusing to write a file from the server: {exc.message}", exc.code) from None


def _prepare(real_root: Path, f: FileInfo) -> tuple[Path, bool]:
    """(destination, already in place?); makes the parent folders when a download is needed."""
    dest = safe_destination(real_root, f.path)
    try:
        if dest.is_file() and dest.stat().st_size == f.size and hash_file(dest)[0] == f.digest:
            return dest, True
    except OSError:
        pass  # unreadable: overwrite it
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FailedPrecondition(f"cannot write {f.path!r}: a file is in the way of its folder") from None
    safe_destination(real_root, f.path)  # again: the tree may have changed since planning
    return dest, False


class _Sink:
    """One blob on its way to dest: a memory buffer, spilled to a temp file when it grows large."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.received = 0
        self._buf = bytearray()
        self._out: BinaryIO | None = None
        self._tmp: str | None = None
        self._hash = hashlib.sha256()

    async def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self._out is None and len(self._buf) + len(chunk) <= SPILL_BYTES:
            self._buf += chunk
        else:
            await asyncio.to_thread(self._write, chunk)

    def _write(self, chunk: bytes | bytearray) -> None:
        if self._out is None:
            fd, self._tmp = tempfile.mkstemp(dir=self.dest.parent, prefix=".arkive-", suffix=".part")
            self._out = os.fdopen(fd, "wb")
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            self._write(buf)
        self._out.write(chunk)
        self._hash.update(chunk)

    def finish(self, real_root: Path, f: FileInfo, mode: int) -> None:
        """Verifies and renames into place (blocking: run in a thread)."""
        if self._out is None or self._buf:
            self._write(b"")
        assert self._out is not None and self._tmp is not None
        self._out.close()
        if self.received != f.size or "sha256:" + self._hash.hexdigest() != f.digest:
            raise ArkiveError(f"download of {f.path!r} is corrupt (size or sha256 mismatch)", Code.INTERNAL)
        os.chmod(self._tmp, mode)
        safe_destination(real_root, f.path)
        try:
            os.replace(self._tmp, self.dest)
        except IsADirectoryError:
            raise FailedPrecondition(f"cannot write {f.path!r}: a folder is in the way") from None
        self._tmp = None

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass


async def _download_one(
    stub: object, real_root: Path, f: FileInfo, address: str, progress: NullProgress, mode: int
) -> int | None:
    """Downloads one file; returns bytes written, or None when it was already in place."""
    dest, in_place = await asyncio.to_thread(_prepare, real_root, f)
    if in_place:
        progress.advance(f.size)
        return None
    sink = _Sink(dest)
    try:
        await _receive(stub, f, sink, address, progress)
        await asyncio.to_thread(sink.finish, real_root, f, mode)
    finally:
        sink.discard()  # no-op after a successful rename
    return sink.received


async def _receive(stub: object, f: FileInfo, sink: _Sink, address: str, progress: NullProgress) -> None:
    """Streams one blob into sink, resuming from the last byte after a dropped connection."""
    for attempt in range(ATTEMPTS):
        request = bpb.DownloadBlobRequest(digest=f.digest, offset=sink.received)
        call = stub.DownloadBlob(request)  # type: ignore[attr-defined]
        try:
            async for resp in call:
                if sink.received + len(resp.chunk) > f.size:
                    raise ArkiveError(f"server sent more than {f.size} bytes for {f.path!r}", Code.INTERNAL)
                await sink.add(resp.chunk)
                progress.advance(len(resp.chunk))
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE and attempt + 1 < ATTEMPTS:
                await retry_pause(attempt)
                continue
            raise rpc_error(exc, address) from None
        finally:
            if not call.done():
                call.cancel()
