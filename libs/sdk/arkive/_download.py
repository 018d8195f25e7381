"""Downloading a version's files: verified, atomic, never outside the destination root.

Each blob goes through a Sink (_sink.py): in memory while small, spilled to a temp file next to
its destination past 1 MiB, hashed on the way and renamed into place only once size and sha256
match. Blocking file work runs in threads, batched into as few hops as possible because per-file
overhead dominates datasets of many small files.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from arkive_common.errors import ArkiveError, Code, FailedPrecondition
from arkive_proto.v1 import blob_service_pb2 as bpb

from ._cache import BlobCache
from ._direct_download import fetch_direct
from ._download_batch import BATCH_MAX_FILE, batches, download_batch
from ._files import CHUNK_SIZE, artifact_path, hash_file
from ._http import DirectState
from ._paths import check_layout, safe_destination
from ._progress import NullProgress
from ._rpc import Retry
from ._sink import ChunkSink, Sink, receive_stream
from ._statcache import StatCache, stat_key
from ._transfer import run_bounded
from ._wire import BlobStub
from .version import DownloadResult, FileInfo

DOWNLOAD_CONCURRENCY = 8


def new_file_mode() -> int:
    """The mode a newly created file gets under the current umask (0o666 & ~umask)."""
    # The only portable way to read the umask is to set it; done once per download.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


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


def _server_path(path: str) -> str:
    try:
        return artifact_path(path)
    except ArkiveError as exc:
        raise type(exc)(f"refusing to write a file from the server: {exc.message}", exc.code) from None


def prepare_destination(
    real_root: Path, f: FileInfo, stats: StatCache | None = None, made: set[Path] | None = None
) -> tuple[Path, bool]:
    """(destination, already in place?); makes the parent folders when a download is needed.

    Without a digest (reference entries that record none) nothing proves a local file right: it is
    never "in place", and is not read.
    """
    dest = safe_destination(real_root, f.path)
    try:
        if f.digest and dest.is_file() and dest.stat().st_size == f.size and _digest(dest, stats) == f.digest:
            return dest, True
    except OSError:
        pass  # unreadable: overwrite it
    if made is None or dest.parent not in made:  # made: the folders this download already made
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise FailedPrecondition(f"cannot write {f.path!r}: a file is in the way of its folder") from None
        if made is not None:
            made.add(dest.parent)  # one mkdir per folder: each takes the folder's lock (1-3 ms when busy)
    safe_destination(real_root, f.path)  # again: the tree may have changed since planning
    return dest, False


def _digest(path: Path, stats: StatCache | None) -> str:
    """sha256 of an existing file, from the stat cache when it is unchanged since last hashed."""
    if stats is None:
        return hash_file(path)[0]
    real = os.path.abspath(path)
    before = stat_key(os.stat(real))
    known = stats.get_many([(real, before)]).get(real)
    if known is not None:
        return known
    digest = hash_file(path)[0]
    if stat_key(os.stat(real)) == before:
        stats.put_many([(real, before, digest)])
    return digest


def copy_from_cache(
    cache: BlobCache,
    real_root: Path,
    f: FileInfo,
    dest: Path,
    mode: int,
    stats: StatCache | None = None,
    copies: dict[str, tuple[str, int]] | None = None,
) -> bool:
    """Copies f into place from a cache entry or from where an earlier download wrote it (the stat
    cache's blob_copies), verifying size and sha256 on the way (blocking).

    False when there is no usable source; a corrupt entry is dropped, a copy edited since forgotten,
    so that the blob gets downloaded again.
    """
    entry = cache.lookup(f.digest, f.size)
    if entry is not None and _copy_verified(real_root, f, dest, mode, str(entry)):
        return True
    if entry is not None:
        cache.drop(f.digest)
    if stats is None:
        return False
    known = copies if copies is not None else stats.copies([f.digest])  # copies: looked up for a batch
    path, size = known.get(f.digest, ("", -1))
    if size != f.size or path == str(dest):
        return False
    if _copy_verified(real_root, f, dest, mode, path):
        return True
    stats.forget_copy(f.digest, path)
    return False


def _copy_verified(real_root: Path, f: FileInfo, dest: Path, mode: int, source: str) -> bool:
    """True once source's bytes are verified as f and renamed into dest; False if they are not f."""
    sink = Sink(dest)
    try:
        with open(source, "rb") as src:
            while chunk := src.read(CHUNK_SIZE):
                sink.add_sync(chunk)
                if sink.received > f.size:
                    break
        sink.finish(real_root, f, mode)
        return True
    except ArkiveError as exc:
        if exc.code not in (Code.INTERNAL, Code.DATA_LOSS):
            raise  # e.g. a folder in the way: not the source's fault
        return False
    except OSError:
        return False  # evicted or deleted meanwhile, unreadable: download instead
    finally:
        sink.discard()


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
