"""Where a downloaded file goes: checked destinations, the new file's mode, copies from the cache.

Shared by single-file downloads (download.py), batches (download_batch.py), zips and references.
"""

from __future__ import annotations

import os
from pathlib import Path

from arkive_common.errors import ArkiveError, Code, FailedPrecondition

from .cache import BlobCache
from .files import CHUNK_SIZE, artifact_path, hash_file
from .paths import safe_destination
from .sink import Sink
from .statcache import StatCache, stat_key
from .types import FileInfo


def new_file_mode() -> int:
    """The mode a newly created file gets under the current umask (0o666 & ~umask)."""
    # The only portable way to read the umask is to set it; done once per download.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _server_path(path: str) -> str:
    try:
        return artifact_path(path)
    except ArkiveError as exc:
        raise type(exc)(f"refusing to write a file from the server: {exc.message}", exc.code) from None


def prepare_destination(real_root: Path, f: FileInfo, stats: StatCache | None = None) -> tuple[Path, bool]:
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
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FailedPrecondition(f"cannot write {f.path!r}: a file is in the way of its folder") from None
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


def copy_from_cache(cache: BlobCache, real_root: Path, f: FileInfo, dest: Path, mode: int) -> bool:
    """Copies a cache entry into place, verifying size and sha256 on the way (blocking).

    False when there is no usable entry; a corrupt one is dropped so it gets downloaded again.
    """
    entry = cache.lookup(f.digest, f.size)
    if entry is None:
        return False
    sink = Sink(dest)
    try:
        with open(entry, "rb") as src:
            while chunk := src.read(CHUNK_SIZE):
                sink.add_sync(chunk)
                if sink.received > f.size:
                    break
        sink.finish(real_root, f, mode)
        return True
    except ArkiveError as exc:
        if exc.code not in (Code.INTERNAL, Code.DATA_LOSS):
            raise  # e.g. a folder in the way: not the cache's fault
        cache.drop(f.digest)
        return False
    except OSError:
        return False  # evicted meanwhile, unreadable: download instead
    finally:
        sink.discard()
