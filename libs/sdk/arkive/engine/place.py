"""Where a downloaded file goes: checked destinations, the new file's mode, copies from the cache.

Shared by single-file downloads (download.py), batches (download_batch.py), zips and references.
"""

from __future__ import annotations

import os
from pathlib import Path

from arkive_core.errors import ArkiveError, Code, FailedPrecondition

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
