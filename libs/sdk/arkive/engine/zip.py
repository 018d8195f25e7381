"""Exporting a version as a zip file: streamed, verified per file, bounded memory, atomic.

Entries are written in path order. Small files are fetched a batch at a time (at most ~32 MiB
in memory, see _download_batch); large ones are streamed chunk by chunk straight into their entry.
Each file comes from the local blob cache when a verified entry is there, else from the server,
and its bytes are hashed as they go into the zip: any mismatch aborts the export. The zip is
built in a temp file next to `out` and renamed into place only when complete. Entries are stored
(not deflated): artifacts are mostly already-compressed binaries, and storing keeps export fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import IO

from arkive_core.errors import ArkiveError, Code, DataLoss

from .cache import BlobCache, CacheWriter
from .download import _receive
from .download_batch import BATCH_MAX_BYTES, BATCH_MAX_FILE, BATCH_MAX_FILES, fetch_blobs
from .files import CHUNK_SIZE, hash_file
from .paths import check_layout
from .place import _server_path, new_file_mode
from .progress import NullProgress
from .statcache import StatCache
from .types import DownloadResult, FileInfo
from .wire import BlobStub


class _EntrySink:
    """Receives one blob's chunks into an open zip entry, hashing them (a _sink.ChunkSink)."""

    def __init__(self, entry: IO[bytes], tee: CacheWriter | None = None) -> None:
        self.entry = entry
        self.tee = tee
        self.received = 0
        self.hash = hashlib.sha256()

    async def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self.hash.update(chunk)
        await asyncio.to_thread(self._write, chunk)

    def _write(self, chunk: bytes) -> None:
        self.entry.write(chunk)
        if self.tee is not None:
            self.tee.write(chunk)

    def check(self, f: FileInfo) -> None:
        if self.received != f.size or "sha256:" + self.hash.hexdigest() != f.digest:
            raise DataLoss(f"download of {f.path!r} is corrupt (size or sha256 mismatch)", digests=[f.digest])


class _Writer:
    def __init__(self, zf: zipfile.ZipFile, date_time: tuple[int, int, int, int, int, int]) -> None:
        self.zf = zf
        self.date_time = date_time
        self.files = self.nbytes = self.cached = self.cached_bytes = self.downloaded = 0

    def info(self, f: FileInfo) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(f.path, self.date_time)
        zi.compress_type = zipfile.ZIP_STORED
        zi.external_attr = 0o644 << 16
        zi.file_size = f.size
        return zi

    def put(self, f: FileInfo, data: bytes) -> None:
        self.zf.writestr(self.info(f), data)
        self.files += 1
        self.nbytes += len(data)


def _recorded_copies(digests: list[str]) -> dict[str, str]:
    """digest -> where a download last wrote it (stat cache's blob_copies; unverified)."""
    stats = StatCache.open_default()
    if stats is None:
        return {}
    try:
        return {d: path for d, (path, _) in stats.copies(digests).items()}
    finally:
        stats.close()


def _cached_bytes(cache: BlobCache, f: FileInfo, copy: str | None) -> bytes | None:
    """A small blob from the cache or an earlier download's copy, verified; a corrupt entry is dropped."""
    entry = cache.lookup(f.digest, f.size)
    for source in (entry, copy):
        if source is None:
            continue
        try:
            data = Path(source).read_bytes()
        except OSError:
            continue
        if len(data) == f.size and "sha256:" + hashlib.sha256(data).hexdigest() == f.digest:
            return data
        if source is entry:
            cache.drop(f.digest)
    return None


def _verified_entry(cache: BlobCache, f: FileInfo, copy: str | None) -> Path | None:
    """A large blob's cache entry (or an earlier download's copy) after hashing it, so a corrupt one
    never reaches the zip."""
    entry = cache.lookup(f.digest, f.size)
    for source in (entry, Path(copy) if copy else None):
        if source is None:
            continue
        try:
            if hash_file(source) == (f.digest, f.size):
                return source
        except OSError:
            continue
        if source is entry:
            cache.drop(f.digest)
    return None


async def _small(stub: BlobStub, w: _Writer, batch: list[FileInfo], address: str, progress: NullProgress,
                 cache: BlobCache | None) -> None:  # fmt: skip
    got: dict[str, bytes] = {}
    if cache is not None:
        copies = await asyncio.to_thread(_recorded_copies, [f.digest for f in batch])
        for f in batch:
            data = await asyncio.to_thread(_cached_bytes, cache, f, copies.get(f.digest))
            if data is not None:
                got[f.digest] = data
                w.cached += 1
                w.cached_bytes += f.size
    want = {f.digest: f.size for f in batch if f.digest not in got}
    if want:
        fetched = await fetch_blobs(stub, want, address)
        w.downloaded += sum(len(b) for b in fetched.values())
        if cache is not None:
            for digest, data in fetched.items():
                await asyncio.to_thread(cache.add_bytes, digest, data)
        got.update(fetched)
    for f in batch:
        await asyncio.to_thread(w.put, f, got[f.digest])
        progress.advance(f.size)


async def _large(stub: BlobStub, w: _Writer, f: FileInfo, address: str, progress: NullProgress,
                 cache: BlobCache | None) -> None:  # fmt: skip
    copy = (await asyncio.to_thread(_recorded_copies, [f.digest])).get(f.digest) if cache is not None else None
    entry = await asyncio.to_thread(_verified_entry, cache, f, copy) if cache is not None else None
    with w.zf.open(w.info(f), "w", force_zip64=f.size >= 2**31) as out:
        sink = _EntrySink(out)
        if entry is not None:
            src = await asyncio.to_thread(open, entry, "rb")
            try:
                while chunk := await asyncio.to_thread(src.read, CHUNK_SIZE):
                    await sink.add(chunk)
                    progress.advance(len(chunk))
            finally:
                src.close()
            w.cached += 1
            w.cached_bytes += f.size
        else:
            sink.tee = await asyncio.to_thread(cache.writer, f.size) if cache is not None else None
            try:
                await _receive(stub, f, sink, address, progress)
                sink.check(f)
                if sink.tee is not None:
                    await asyncio.to_thread(sink.tee.commit, f.digest)
            finally:
                if sink.tee is not None:
                    sink.tee.abort()  # no-op after a commit
            w.downloaded += sink.received
        sink.check(f)
    w.files += 1
    w.nbytes += f.size


async def write_zip(
    stub: BlobStub,
    out: Path,
    files: list[FileInfo],
    address: str,
    progress: NullProgress,
    cache: BlobCache | None,
    created_at: datetime,
) -> DownloadResult:
    norm = sorted((FileInfo(_server_path(f.path), f.digest, f.size) for f in files), key=lambda f: f.path)
    check_layout(f.path for f in norm)
    fd, tmp_path = await asyncio.to_thread(_temp_next_to, out)
    tmp: str | None = tmp_path  # None once it has become `out`
    progress.phase("downloading", sum(f.size for f in norm))
    stamp = created_at.timetuple()[:6] if created_at.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
            w = _Writer(zf, stamp)
            pending: list[FileInfo] = []
            for f in [*norm, None]:
                small = f is not None and f.size <= BATCH_MAX_FILE
                full = sum(p.size for p in pending) + (f.size if small and f else 0) > BATCH_MAX_BYTES
                if pending and (not small or full or len(pending) >= BATCH_MAX_FILES):
                    await _small(stub, w, pending, address, progress, cache)
                    pending = []
                if f is not None and small:
                    pending.append(f)
                elif f is not None:
                    await _large(stub, w, f, address, progress, cache)
        os.chmod(tmp_path, new_file_mode())
        os.replace(tmp_path, out)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    if cache is not None and w.downloaded:
        await asyncio.to_thread(cache.cleanup)
    return DownloadResult(out, w.files, w.nbytes, 0, w.cached, w.cached_bytes, w.downloaded)


def _temp_next_to(out: Path) -> tuple[int, str]:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_dir():
        raise ArkiveError(f"{out} is a folder, expected a .zip file path", Code.FAILED_PRECONDITION)
    return tempfile.mkstemp(dir=out.parent, prefix=".arkive-", suffix=".zip.part")
