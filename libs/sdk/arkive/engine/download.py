"""Downloading a version's files: verified, atomic, never outside the destination root.

Each blob goes through a Sink (_sink.py): in memory while small, spilled to a temp file next to
its destination past 1 MiB, hashed on the way and renamed into place only once size and sha256
match. Blocking file work runs in threads, batched into as few hops as possible because per-file
overhead dominates datasets of many small files.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import Retry
from .cache import BlobCache
from .direct_download import fetch_direct
from .download_batch import BATCH_MAX_FILE, batches, download_batch
from .http import DirectState
from .paths import check_layout, safe_destination
from .place import _server_path, copy_from_cache, new_file_mode, prepare_destination
from .progress import NullProgress
from .sink import ChunkSink, Sink, receive_stream
from .statcache import StatCache
from .transfer import run_bounded
from .types import DownloadResult, FileInfo
from .wire import BlobStub

DOWNLOAD_CONCURRENCY = 8


@dataclass
class _Stats:
    written: int = 0
    nbytes: int = 0
    skipped: int = 0
    cached: int = 0
    cached_bytes: int = 0
    downloaded: int = 0
    stats: StatCache | None = None  # the stat cache, for files already in place
    direct: DirectState = field(default_factory=DirectState)  # large blobs straight from S3, while that works


async def download_files(
    stub: BlobStub,
    root: Path,
    files: list[FileInfo],
    address: str,
    progress: NullProgress,
    cache: BlobCache | None = None,
) -> DownloadResult:
    """Writes `files` under root (created if needed); returns what was written and skipped.

    With a cache, verified cache entries are copied instead of transferred, and transferred
    blobs are added to it (then it is trimmed back to its limit).
    """
    real_root, norm = await asyncio.to_thread(_plan, root, files)
    mode = new_file_mode()
    st = _Stats(stats=StatCache.open_default())
    progress.phase("downloading", sum(f.size for f in norm))

    async def one(f: FileInfo) -> None:
        await _download_one(stub, real_root, f, address, progress, mode, cache, st)

    async def many(batch: list[FileInfo]) -> None:
        await download_batch(stub, real_root, batch, address, progress, mode, cache, st)

    try:
        # Small files travel many to a stream; large ones stream alone (resumable, bounded memory).
        await run_bounded(batches([f for f in norm if f.size <= BATCH_MAX_FILE]), many, 2)
        await run_bounded([f for f in norm if f.size > BATCH_MAX_FILE], one, DOWNLOAD_CONCURRENCY)
    finally:
        if st.stats is not None:
            st.stats.close()
    if cache is not None and st.downloaded:
        await asyncio.to_thread(cache.cleanup)
    return DownloadResult(
        path=root,
        files_written=st.written,
        bytes_written=st.nbytes,
        files_skipped=st.skipped,
        files_from_cache=st.cached,
        bytes_from_cache=st.cached_bytes,
        bytes_downloaded=st.downloaded,
    )


def _plan(root: Path, files: list[FileInfo]) -> tuple[Path, list[FileInfo]]:
    """Validates every path and destination before the first byte is written."""
    root.mkdir(parents=True, exist_ok=True)
    real_root = root.resolve()
    norm = [FileInfo(_server_path(f.path), f.digest, f.size) for f in files]
    check_layout(f.path for f in norm)
    for f in norm:
        safe_destination(real_root, f.path)
    return real_root, norm


async def _download_one(
    stub: BlobStub,
    real_root: Path,
    f: FileInfo,
    address: str,
    progress: NullProgress,
    mode: int,
    cache: BlobCache | None,
    st: _Stats,
) -> None:
    """Downloads one file (or finds it in place or in the cache)."""
    dest, in_place = await asyncio.to_thread(prepare_destination, real_root, f, st.stats)
    if in_place:
        progress.advance(f.size)
        st.skipped += 1
        return
    if cache is not None and await asyncio.to_thread(copy_from_cache, cache, real_root, f, dest, mode, st.stats):
        progress.advance(f.size)
        st.written += 1
        st.nbytes += f.size
        st.cached += 1
        st.cached_bytes += f.size
        return
    sink = Sink(dest)
    try:
        # Straight from object storage when it can; DownloadBlob goes on from the byte reached.
        if not await fetch_direct(stub, f, sink, address, progress, st.direct):
            await _receive(stub, f, sink, address, progress)
        await asyncio.to_thread(sink.finish, real_root, f, mode)
    finally:
        sink.discard()  # no-op after a successful rename
    # Written once: the next download of this blob copies it from here (verified), see _statcache.py.
    if cache is not None and st.stats is not None:
        await asyncio.to_thread(st.stats.note_copies, [(f.digest, str(dest), f.size)])
    st.written += 1
    st.nbytes += sink.received
    st.downloaded += sink.received


async def _receive(stub: BlobStub, f: FileInfo, sink: ChunkSink, address: str, progress: NullProgress) -> None:
    """Streams one blob into sink, resuming from the last byte after a dropped connection."""

    retry = Retry.of(stub)

    def open_call(offset: int) -> object:
        request = bpb.DownloadBlobRequest(digest=f.digest, offset=offset)
        return stub.DownloadBlob(request)

    await receive_stream(open_call, sink, f.size, f.path, address, progress, retry=retry)
