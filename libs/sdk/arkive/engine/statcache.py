"""The stat cache: (absolute path, size, mtime, ctime, inode, device) -> sha256, so unchanged files
are not re-hashed on every log or verify.

The path is absolute but not resolved (no realpath: that costs a syscall per path component, per
file): the stat fields are those of the file the path leads to, so a symlink pointed elsewhere, or
a folder on the way swapped, shows up as another inode/device and the file is hashed again.

Stored in sqlite (stdlib) at <cache dir>/stat.sqlite, in WAL mode with a busy timeout so that
concurrent processes can share it. It is an optimisation only: any error (a corrupt file, a
read-only disk, a locked database) means "not cached" and hashing proceeds as before.

A hit requires every recorded field to match: a rewrite changes mtime and ctime, a replacement
by rename changes the inode, a copy from elsewhere changes all of them. Like git's "racy" index
entries, a stat taken within RACY_NS of the file's last change is not recorded: a file written
twice within one timestamp tick (coarse on many filesystems) could otherwise keep a stale digest.
ARKIVE_STAT_CACHE=0 (or ARKIVE_CACHE=0) disables it.

The same database keeps where a download last wrote each blob (blob_copies: digest -> path): a
download writes each file once, to its destination, and a later download of the same blob copies it
from there instead of fetching it, hashing what it copies (an edited or vanished copy is forgotten
and the blob fetched). No second copy is kept in the blob cache, so editing a download in place
cannot corrupt anything but itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from .cache import cache_dir, cache_enabled

RACY_NS = 2_000_000_000
Key = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device

_SCHEMA = """CREATE TABLE IF NOT EXISTS stat_cache (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, dev INTEGER NOT NULL, digest TEXT NOT NULL, used_at REAL NOT NULL)"""
_COPIES_SCHEMA = """CREATE TABLE IF NOT EXISTS blob_copies (
    digest TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, used_at REAL NOT NULL)"""
_MAX_ROWS = 1_000_000  # beyond this, the least recently used rows are forgotten


def stat_key(st: os.stat_result) -> Key:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def enabled() -> bool:
    flag = os.environ.get("ARKIVE_STAT_CACHE", "1").strip().lower()
    return cache_enabled() and flag not in ("0", "false", "no", "off")


class StatCache:
    """Thread-safe (one connection behind a lock); every method swallows sqlite and OS errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    @classmethod
    def open_default(cls) -> StatCache | None:
        return cls(cache_dir() / "stat.sqlite") if enabled() else None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA busy_timeout = 10000")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
                db.execute(_SCHEMA)
                db.execute(_COPIES_SCHEMA)
                self._db = db
            except (sqlite3.Error, OSError):
                self._broken = True  # hash as if there were no cache
        return self._db

    def get_many(self, items: list[tuple[str, Key]]) -> dict[str, str]:
        """path -> digest for the items whose recorded stat matches exactly."""
        out: dict[str, str] = {}
        with self._lock:
            db = self._conn()
            if db is None or not items:
                return out
            try:
                for start in range(0, len(items), 500):
                    chunk = items[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(
                        "SELECT path, size, mtime_ns, ctime_ns, inode, dev, digest FROM stat_cache"
                        f" WHERE path IN ({marks})",
                        [p for p, _ in chunk],
                    ).fetchall()
                    want = dict(chunk)
                    for path, *key, digest in rows:
                        if tuple(key) == want.get(path):
                            out[path] = digest
            except sqlite3.Error:
                return {}
        return out

    def put_many(self, items: list[tuple[str, Key, str]]) -> None:
        """Records digests; stats too close to the file's last change are skipped (racy)."""
        now = time.time_ns()
        rows = [(p, *k, d, now / 1e9) for p, k, d in items if now - max(k[1], k[2]) >= RACY_NS]
        with self._lock:
            db = self._conn()
            if db is None or not rows:
                return
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO stat_cache (path, size, mtime_ns, ctime_ns, inode, dev, digest, used_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
                    " mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, inode = excluded.inode,"
                    " dev = excluded.dev, digest = excluded.digest, used_at = excluded.used_at",
                    rows,
                )
                db.execute("COMMIT")
                if len(rows) > 1000 and self._rows_over_limit(db):
                    db.execute(
                        "DELETE FROM stat_cache WHERE path IN (SELECT path FROM stat_cache ORDER BY used_at LIMIT ?)",
                        (len(rows),),
                    )
            except sqlite3.Error:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def copies(self, digests: list[str]) -> dict[str, tuple[str, int]]:
        """digest -> (path, size) of the last place a download wrote it (unverified: hash on use)."""
        out: dict[str, tuple[str, int]] = {}
        with self._lock:
            db = self._conn()
            if db is None:
                return out
            try:
                for start in range(0, len(digests), 500):
                    chunk = digests[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    sql = f"SELECT digest, path, size FROM blob_copies WHERE digest IN ({marks})"
                    out.update((d, (p, n)) for d, p, n in db.execute(sql, chunk))
            except sqlite3.Error:
                return {}
        return out

    def note_copies(self, items: list[tuple[str, str, int]]) -> None:
        """Records (digest, absolute path, size) of files a download just wrote and verified."""
        now = time.time()
        with self._lock:
            db = self._conn()
            if db is None or not items:
                return
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO blob_copies (digest, path, size, used_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest)"
                    " DO UPDATE SET path = excluded.path, size = excluded.size, used_at = excluded.used_at",
                    [(d, p, n, now) for d, p, n in items],
                )
                db.execute("COMMIT")
                # As for stat_cache: the rowid span (O(log n)) bounds the count; only past it is counted.
                span = db.execute("SELECT coalesce(max(rowid) - min(rowid) + 1, 0) FROM blob_copies").fetchone()[0]
                if span > _MAX_ROWS:
                    db.execute(
                        "DELETE FROM blob_copies WHERE digest IN (SELECT digest FROM blob_copies ORDER BY used_at"
                        " LIMIT max(0, (SELECT count(*) FROM blob_copies) - ?))",
                        (_MAX_ROWS,),
                    )
            except sqlite3.Error:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def forget_copy(self, digest: str, path: str) -> None:
        """Drops a recorded copy that no longer holds its blob (edited, moved, deleted)."""
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.execute("DELETE FROM blob_copies WHERE digest = ? AND path = ?", (digest, path))
            except sqlite3.Error:
                pass

    @staticmethod
    def _rows_over_limit(db: sqlite3.Connection) -> bool:
        # The rowid span bounds the row count from above in O(log n); the exact count (a scan of
        # the whole table: ~0.1 s of CPU at half a million rows, beside every large log's upload)
        # is only taken once that bound passes the limit.
        span = db.execute("SELECT coalesce(max(rowid) - min(rowid) + 1, 0) FROM stat_cache").fetchone()[0]
        return span > _MAX_ROWS and db.execute("SELECT count(*) FROM stat_cache").fetchone()[0] > _MAX_ROWS

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None
