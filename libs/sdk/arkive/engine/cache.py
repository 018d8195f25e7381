"""The local blob cache: downloaded blobs kept by digest, bounded in size, evicted least recently used.

Layout under ARKIVE_CACHE_DIR (default $XDG_CACHE_HOME/arkive, i.e. ~/.cache/arkive):
obj/sha256/<2 hex>/<64 hex> holds one blob each; tmp/ holds entries being written. An entry is
written to tmp/ and renamed into place, so a reader never sees half a blob, and two processes
caching the same digest at once both rename identical bytes over each other (harmless).

A cache hit is never trusted: the caller hashes the bytes as it copies them (see _download.py)
and drops an entry whose size or sha256 is wrong. Files are *copied* out of the cache, never
hard-linked: a hard link shares the inode, so editing a downloaded file in place would silently
edit the cache entry and every other checkout of it (W&B copies too). Copies are what `download`
returns; the cache costs disk space once more in exchange for that safety.

Recency is recorded in each entry's mtime (set on every hit and write), not atime, which many
mounts do not update. Eviction (after each download, or `cleanup`) deletes oldest entries first
until the total fits; concurrent evictions simply skip entries another process removed.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arkive_core.errors import InvalidArgument

DEFAULT_LIMIT = 10 * 1024**3
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_TMP_MAX_AGE = 24 * 3600  # leftovers of crashed writers older than this are removed by cleanup


def parse_size(text: str | int) -> int:
    """Bytes from 123, "123", "500MB", "2GiB", "1.5 GB" (decimal and binary units)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise InvalidArgument(f"invalid size {text}: must not be negative")
        return text
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise InvalidArgument(f"invalid size {text!r}: use bytes or e.g. 500MB, 2GiB")
    return int(float(m.group(1)) * _UNITS[unit])


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What the local blob cache holds: location, entries, bytes and the size limit."""

    path: Path
    enabled: bool
    entries: int
    bytes: int
    limit: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "enabled": self.enabled,
            "entries": self.entries,
            "bytes": self.bytes,
            "limit": self.limit,
        }


@dataclass(frozen=True, slots=True)
class CleanupResult:
    """What cache_cleanup removed, and what is left."""

    entries_removed: int
    bytes_freed: int
    info: CacheInfo

    def to_dict(self) -> dict[str, Any]:
        return {"entries_removed": self.entries_removed, "bytes_freed": self.bytes_freed, **self.info.to_dict()}


def cache_dir() -> Path:
    explicit = os.environ.get("ARKIVE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arkive"


def cache_enabled() -> bool:
    return os.environ.get("ARKIVE_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_limit() -> int:
    text = os.environ.get("ARKIVE_CACHE_SIZE")
    try:
        return parse_size(text) if text else DEFAULT_LIMIT
    except InvalidArgument as exc:
        raise InvalidArgument(f"ARKIVE_CACHE_SIZE: {exc.message}") from None


class BlobCache:
    """One cache directory. Blocking methods: call them in a thread from async code."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self._obj = root / "obj" / "sha256"
        self._tmp = root / "tmp"

    @classmethod
    def from_env(cls) -> BlobCache | None:
        """The configured cache, or None when ARKIVE_CACHE=0."""
        return cls(cache_dir(), cache_limit()) if cache_enabled() else None

    def entry(self, digest: str) -> Path | None:
        m = _DIGEST.match(digest)
        if m is None:
            return None  # never build a path from anything but a well-formed digest
        hexd = m.group(1)
        return self._obj / hexd[:2] / hexd

    def lookup(self, digest: str, size: int) -> Path | None:
        """The entry for digest if present with the right size (its content is checked by the caller)."""
        path = self.entry(digest)
        try:
            if path is None or os.stat(path).st_size != size:
                return None
            os.utime(path)  # recency for LRU
        except OSError:
            return None
        return path

    def drop(self, digest: str) -> None:
        """Removes a corrupt entry (another process may have removed it already)."""
        path = self.entry(digest)
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass

    def _publish(self, tmp: str, digest: str) -> None:
        path = self.entry(digest)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)  # entries are immutable; copies made from them get the user's umask
        os.replace(tmp, path)

    def _tmpfile(self) -> tuple[int, str]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=self._tmp, prefix="blob-")

    def add_bytes(self, digest: str, data: bytes) -> None:
        """Caches verified bytes; never fails the caller (a full disk only means no caching)."""
        if self.entry(digest) is None or len(data) > self.limit:
            return
        tmp = None
        try:
            fd, tmp = self._tmpfile()
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            self._publish(tmp, digest)
            tmp = None
        except OSError:
            pass
        finally:
            _unlink_quietly(tmp)

    def writer(self, size: int) -> CacheWriter | None:
        """A writer that caches a blob as it streams by (None when it cannot or should not)."""
        if size > self.limit:
            return None
        try:
            fd, tmp = self._tmpfile()
        except OSError:
            return None
        return CacheWriter(self, fd, tmp)

    def _entries(self) -> list[tuple[float, int, Path]]:
        """(recency, size, path) of every entry."""
        out: list[tuple[float, int, Path]] = []
        try:
            shards = list(os.scandir(self._obj))
        except OSError:
            return out
        for shard in shards:
            try:
                with os.scandir(shard.path) as it:
                    for e in it:
                        try:
                            st = e.stat(follow_symlinks=False)
                        except OSError:
                            continue  # evicted by another process meanwhile
                        out.append((st.st_mtime, st.st_size, Path(e.path)))
            except OSError:
                continue
        return out

    def info(self) -> CacheInfo:
        entries = self._entries()
        return CacheInfo(self.root, True, len(entries), sum(s for _, s, _ in entries), self.limit)

    def cleanup(self, target: int | None = None) -> tuple[int, int]:
        """Evicts least recently used entries until the total is <= target (default: the limit).

        Returns (entries removed, bytes freed).
        """
        target = self.limit if target is None else target
        entries = self._entries()
        total = sum(s for _, s, _ in entries)
        removed = freed = 0
        for _, size, path in sorted(entries, key=lambda e: (e[0], e[2].name)):
            if total <= target:
                break
            try:
                os.unlink(path)
                removed += 1
                freed += size
            except OSError:
                pass  # already gone (another process); it no longer counts either way
            total -= size
        self._sweep_tmp(everything=target == 0)
        return removed, freed

    def _sweep_tmp(self, everything: bool) -> None:
        # Writers in other processes may be using young temp files: only old ones are leftovers.
        cutoff = time.time() - (60 if everything else _TMP_MAX_AGE)
        try:
            for e in os.scandir(self._tmp):
                try:
                    if e.stat().st_mtime < cutoff:
                        os.unlink(e.path)
                except OSError:
                    pass
        except OSError:
            pass


class CacheWriter:
    """Tees a blob into the cache while it is downloaded elsewhere; commit() only once verified.

    Never raises: a failing disk makes it give up silently (the download itself goes on).
    """

    def __init__(self, cache: BlobCache, fd: int, tmp: str) -> None:
        self._cache = cache
        self._tmp: str | None = tmp
        self._out = os.fdopen(fd, "wb")

    def write(self, chunk: bytes | bytearray) -> None:
        if self._tmp is None:
            return
        try:
            self._out.write(chunk)
        except OSError:
            self.abort()

    def commit(self, digest: str) -> None:
        if self._tmp is None:
            return
        try:
            self._out.close()
            self._cache._publish(self._tmp, digest)
            self._tmp = None
        except OSError:
            self.abort()

    def abort(self) -> None:
        try:
            self._out.close()
        except OSError:
            pass
        _unlink_quietly(self._tmp)
        self._tmp = None


def _unlink_quietly(path: str | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


def cache_info() -> CacheInfo:
    """Location, entries, bytes and limit of the local blob cache (ARKIVE_CACHE_DIR)."""
    cache = BlobCache.from_env()
    if cache is None:
        return CacheInfo(cache_dir(), False, 0, 0, cache_limit())
    return cache.info()


def cache_cleanup(size: int | str = 0) -> CleanupResult:
    """Evicts least recently used blobs until the cache holds at most `size` ("1GB", bytes; 0 empties it)."""
    target = parse_size(size)
    cache = BlobCache(cache_dir(), cache_limit())  # also when disabled: cleaning up is still wanted
    removed, freed = cache.cleanup(target)
    info = cache.info()
    return CleanupResult(removed, freed, CacheInfo(info.path, cache_enabled(), info.entries, info.bytes, info.limit))
