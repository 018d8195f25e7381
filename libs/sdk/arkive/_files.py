"""Local files: walking what the user added, hashing it, and the local manifest.

Symlink policy (documented in Artifact.add_dir): directories reached through symlinks are never
entered (no cycles, no surprise uploads of a whole home directory); a symlinked *file* is stored
with the content it points to only if its real path stays inside the directory that was added.
Symlinks that escape, dangle, or point to directories, and special files (FIFOs, sockets,
devices) are skipped and reported in Artifact.skipped so the caller can warn.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from arkive_common.errors import InvalidArgument
from arkive_common.manifest import manifest_digest
from arkive_common.validation import normalize_path

from ._statcache import Key, StatCache, stat_key

CHUNK_SIZE = 1024 * 1024
HASH_THREADS = 4


@dataclass(frozen=True, slots=True)
class LocalFile:
    """One file to log: where it goes in the artifact and where its bytes come from."""

    path: str
    source: Path


@dataclass(frozen=True, slots=True)
class HashedFile:
    path: str
    source: Path
    digest: str
    size: int


def artifact_path(value: str) -> str:
    """normalize_path, plus a clear error for names that are not valid UTF-8 on disk.

    os.walk yields undecodable bytes as lone surrogates (surrogateescape); normalize_path would
    crash on those with UnicodeEncodeError instead of refusing them.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise InvalidArgument(f"invalid path {shown!r}: file name is not valid UTF-8") from None
    return normalize_path(value)


def join_prefix(prefix: str | None, rel: str) -> str:
    """Joins a user-given name prefix ("images", "images/" or "") with a relative POSIX path."""
    prefix = (prefix or "").rstrip("/")  # "images/" and "images" mean the same; "/x" stays invalid
    return artifact_path(f"{prefix}/{rel}" if prefix else rel)


def walk_dir(root: Path, prefix: str | None = None) -> tuple[list[LocalFile], list[tuple[str, str]]]:
    """Lists regular files under root (recursively), sorted by artifact path.

    Returns (files, skipped) where skipped holds (local path, reason) for what was left out.
    Raises InvalidArgument for a file whose artifact path would be invalid.
    """
    real_root = root.resolve()
    files: list[LocalFile] = []
    skipped: list[tuple[str, str]] = []

    def on_error(exc: OSError) -> None:
        # A directory we cannot read would silently shrink the artifact; fail instead.
        raise exc

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                skipped.append((str(here / d), "symlink to a directory"))
        dirnames.sort()
        for fname in sorted(filenames):
            local = here / fname
            reason = _skip_reason(local, real_root)
            if reason:
                skipped.append((str(local), reason))
                continue
            rel = local.relative_to(root).as_posix()
            files.append(LocalFile(path=join_prefix(prefix, rel), source=local))
    files.sort(key=lambda f: f.path)
    return files, skipped


def _skip_reason(local: Path, real_root: Path) -> str:
    try:
        st = local.lstat()
    except FileNotFoundError:
        return "vanished while walking"
    if stat.S_ISLNK(st.st_mode):
        target = Path(os.path.realpath(local))
        if not target.is_relative_to(real_root):
            return "symlink pointing outside the added directory"
        if not target.is_file():
            return "symlink to a directory, a missing or special file"
        return ""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    return ""


class HashingStopped(Exception):
    """Raised inside hashing threads once the caller gave up (Ctrl-C, another file failed)."""


def hash_file(
    path: Path,
    chunk_size: int = CHUNK_SIZE,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[str, int]:
    """Streams a file through sha256; returns ("sha256:<hex>", size). Blocking: run in a thread."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            if stop is not None and stop.is_set():
                raise HashingStopped(str(path))
            h.update(chunk)
            size += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return "sha256:" + h.hexdigest(), size


async def hash_files(
    files: list[LocalFile], on_bytes: Callable[[int], None] | None = None, threads: int = HASH_THREADS
) -> list[HashedFile]:
    """Hashes files on a small thread pool (hashlib releases the GIL, so threads really overlap).

    Files whose stat matches the stat cache (see _statcache.py) are not read at all.
    """
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(_wait_for_recording)  # what an earlier call recorded counts now
    cache = StatCache.open_default()
    known: dict[int, tuple[str, int]] = {}
    if cache is not None:
        known = await asyncio.to_thread(_cached_digests, cache, files)
    todo = [f for i, f in enumerate(files) if i not in known]
    # A private pool: its queue bounds the concurrency, and big hashing jobs cannot starve the
    # default executor that asyncio.to_thread shares with file I/O elsewhere.
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="arkive-hash")
    # Threads cannot be cancelled; the event makes them stop at the next chunk instead of
    # finishing multi-gigabyte files after Ctrl-C.
    stop = threading.Event()
    record: list[tuple[str, Key, str]] = []

    def hash_one(f: LocalFile) -> tuple[str, int]:
        before = os.stat(f.source) if cache is not None else None
        digest, size = hash_file(f.source, CHUNK_SIZE, on_bytes, stop)
        if before is not None:
            key = stat_key(os.stat(f.source))
            if key == stat_key(before) and size == before.st_size:  # unchanged while we read it
                record.append((os.path.abspath(f.source), key, digest))
        return digest, size

    def hash_batch(batch: list[LocalFile]) -> list[tuple[str, int]]:
        return [hash_one(f) for f in batch]

    # Small files go many to a task: one executor hand-off per file costs more than hashing it.
    futures = [loop.run_in_executor(pool, hash_batch, b) for b in _hash_batches(todo)]
    try:
        hashed = iter([r for batch in await asyncio.gather(*futures) for r in batch])
    except BaseException:
        stop.set()
        for fut in futures:
            fut.cancel()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if cache is not None:
        # Recording helps the next log, not this one: it runs beside the upload instead of before it.
        writer = threading.Thread(target=_record, args=(cache, record), name="arkive-stat-cache")
        _RECORDING.append(writer)
        writer.start()
    if on_bytes is not None and known:
        on_bytes(sum(size for _, size in known.values()))
    results = [known[i] if i in known else next(hashed) for i in range(len(files))]
    return [HashedFile(f.path, f.source, d, s) for f, (d, s) in zip(files, results, strict=True)]


_RECORDING: list[threading.Thread] = []  # stat cache writes still running (see hash_files)


def _record(cache: StatCache, record: list[tuple[str, Key, str]]) -> None:
    try:
        cache.put_many(record)
    finally:
        cache.close()


def _wait_for_recording() -> None:
    while _RECORDING:
        _RECORDING.pop().join()


def _cached_digests(cache: StatCache, files: list[LocalFile]) -> dict[int, tuple[str, int]]:
    """index -> (digest, size) of the files the stat cache knows unchanged."""
    keys: dict[str, Key] = {}
    index: dict[str, list[int]] = {}
    for i, f in enumerate(files):
        try:
            real = os.path.abspath(f.source)
            keys[real] = stat_key(os.stat(real))
        except OSError:
            continue  # hashing reports the real error
        index.setdefault(real, []).append(i)
    hits = cache.get_many(list(keys.items()))
    return {i: (digest, keys[real][0]) for real, digest in hits.items() for i in index[real]}


def _hash_batches(files: list[LocalFile], max_files: int = 128, max_bytes: int = 8 << 20) -> list[list[LocalFile]]:
    """Consecutive runs of files (order kept) of at most max_files and about max_bytes each."""
    batches: list[list[LocalFile]] = []
    current: list[LocalFile] = []
    size = 0
    for f in files:
        try:
            n = f.source.stat().st_size
        except OSError:
            n = 0  # hashing reports the real error
        if current and (len(current) >= max_files or size + n > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(f)
        size += n
    if current:
        batches.append(current)
    return batches


def local_manifest_digest(files: list[HashedFile]) -> str:
    return manifest_digest((f.path, f.digest, f.size) for f in files)


def batched(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
