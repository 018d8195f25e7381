"""Scrubbing: re-read stored objects, check every indexed blob's sha256, and drop the corrupt ones
from the content index (BlobsCorrupted), so the next upload of those bytes stores them again.

Verification is by object: one streamed read per object serves every index row that lives in it
(a blob stored alone, the members of a pack, the chunks cut from a large blob), each row hashing
only its own byte range. Composite blobs ("recipe:" keys) have no object; their chunks are rows of
their own, and a composite whose chunk turns out corrupt leaves the index with it (index.apply).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest
from botocore.exceptions import ClientError

from arkive_common import api, eventlog
from arkive_common import api_scrub as sc
from arkive_common.blobstore import BlobStore
from arkive_common.events import BlobsCorrupted

from . import index

MAX_SAMPLE = 10_000
KEYS_PER_PAGE = 1_000


@dataclass
class _Row:
    digest: str
    size: int
    start: int
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    seen: int = 0

    @property
    def end(self) -> int:
        return self.start + self.size

    def ok(self) -> bool:
        return self.seen == self.size and "sha256:" + self.hasher.hexdigest() == self.digest


async def _verify_object(store: BlobStore, key: str, rows: list[_Row]) -> tuple[int, list[sc.CorruptBlob]]:
    """Reads `key` once from offset 0 to the end of its last row; returns (bytes read, corrupt rows)."""
    rows.sort(key=lambda r: r.start)
    extent = max(r.end for r in rows)
    pos, nxt, active, read = 0, 0, list[_Row](), 0
    try:
        async for block in store.read(key, 0, extent) if extent else _nothing():
            end = pos + len(block)
            while nxt < len(rows) and rows[nxt].start < end:
                active.append(rows[nxt])
                nxt += 1
            for r in active:
                lo, hi = max(r.start, pos), min(r.end, end)
                if hi > lo:
                    r.hasher.update(memoryview(block)[lo - pos : hi - pos])
                    r.seen += hi - lo
            active = [r for r in active if r.end > end]
            pos, read = end, read + len(block)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in ("NoSuchKey", "404", "InvalidRange"):
            raise
        return read, [sc.CorruptBlob(r.digest, key, "object missing") for r in rows if r.size > 0]
    bad = []
    for r in rows:
        if not r.ok():
            reason = "object truncated" if r.seen < r.size else "sha256 mismatch"
            bad.append(sc.CorruptBlob(r.digest, key, reason))
    return read, bad


async def _nothing():  # an empty async iterator (every row of the object is empty)
    return
    yield b""


async def _rows_of(pool: asyncpg.Pool, key: str) -> list[_Row]:
    rows = await pool.fetch("SELECT digest, size, pack_offset FROM hashing_blobs WHERE key = $1", key)
    return [_Row(r["digest"], r["size"], r["pack_offset"] or 0) for r in rows]


async def _keys(pool: asyncpg.Pool, req: sc.ScrubPage) -> tuple[list[str], str]:
    """The object keys this page covers, and the key the next page starts after ("" when done)."""
    if req.sample:
        if not 0 < req.sample <= MAX_SAMPLE:
            raise InvalidArgument(f"sample must be between 1 and {MAX_SAMPLE}")
        rows = await pool.fetch(
            "SELECT key FROM (SELECT DISTINCT key FROM hashing_blobs WHERE key NOT LIKE 'recipe:%') k"
            " ORDER BY random() LIMIT $1",
            req.sample,
        )
        return [r["key"] for r in rows], ""
    if req.max_bytes <= 0:
        raise InvalidArgument("max_bytes must be positive")
    rows = await pool.fetch(
        "SELECT key, max(coalesce(pack_offset, 0) + size) AS extent FROM hashing_blobs"
        " WHERE key > $1 AND key NOT LIKE 'recipe:%' GROUP BY key ORDER BY key LIMIT $2",
        req.after_key,
        KEYS_PER_PAGE,
    )
    keys, total = [], 0
    for r in rows:
        keys.append(r["key"])
        total += r["extent"]
        if total >= req.max_bytes:
            break
    done = len(keys) == len(rows) and len(rows) < KEYS_PER_PAGE
    return keys, "" if done else keys[-1]


async def _record(pool: asyncpg.Pool, found: list[sc.CorruptBlob], found_by: str) -> list[sc.CorruptBlob]:
    """Appends BlobsCorrupted for the findings whose index row is still there as read (a blob that
    GC deleted or repacked meanwhile is not corrupt, it moved on); returns those."""
    if not found:
        return []
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT b.digest, b.key, b.size FROM hashing_blobs b"
            " JOIN unnest($1::text[], $2::text[]) AS x(d, k) ON b.digest = x.d AND b.key = x.k"
            " ORDER BY b.digest FOR UPDATE OF b",
            [c.digest for c in found],
            [c.key for c in found],
        )
        if not rows:
            return []
        present = {(r["digest"], r["key"]) for r in rows}
        kept = [c for c in found if (c.digest, c.key) in present]
        event = BlobsCorrupted(
            blobs=[(r["digest"], r["key"], r["size"]) for r in rows],
            reason="; ".join(sorted({c.reason for c in kept})),
            found_by=found_by,
            found_at=time.time(),
        )
        await index.apply(conn, event)
        await eventlog.append(conn, [eventlog.Append(f"scrub-{uuid.uuid4().hex}", [event], 0)])
    return kept


async def scrub(pool: asyncpg.Pool, store: BlobStore, req: sc.ScrubPage) -> sc.ScrubReport:
    keys, next_key = await _keys(pool, req)
    checked = blobs = read = 0
    found: list[sc.CorruptBlob] = []
    for key in keys:
        rows = await _rows_of(pool, key)
        if not rows:
            continue  # collected since the key was listed
        n, bad = await _verify_object(store, key, rows)
        checked, blobs, read = checked + 1, blobs + len(rows), read + n
        found += bad
    corrupt = await _record(pool, found, "scrub")
    return sc.ScrubReport(checked, blobs, read, corrupt, next_key)


async def verify(pool: asyncpg.Pool, store: BlobStore, req: sc.VerifyBlobs) -> sc.ScrubReport:
    """Re-reads the objects that hold the named blobs (never trusting the reporter) and records the
    rows that do not verify. Whole objects, because the chunks cut from a large blob are ranges of
    the same object: leaving a corrupt chunk indexed would let the next upload of that blob build
    it from the bad chunk. A composite blob is checked through the objects of its chunks. Digests
    not in the index are skipped: there is nothing to drop."""
    if len(req.digests) > sc.MAX_VERIFY_DIGESTS:
        raise InvalidArgument(f"at most {sc.MAX_VERIFY_DIGESTS} digests per call")
    if req.found_by not in ("download", "scrub"):
        raise InvalidArgument("found_by must be 'download' or 'scrub'")
    digests = sorted({check_digest(d) for d in req.digests})
    rows = await pool.fetch(
        "SELECT DISTINCT b.key FROM hashing_blobs b WHERE b.key NOT LIKE $2 || '%' AND (b.digest = ANY($1::text[])"
        " OR b.digest IN (SELECT r.chunk_digest FROM hashing_recipes r WHERE r.digest = ANY($1::text[])))"
        " ORDER BY b.key",
        digests,
        api.RECIPE_KEY_PREFIX,
    )
    checked = blobs = read = 0
    found: list[sc.CorruptBlob] = []
    for r in rows:
        object_rows = await _rows_of(pool, r["key"])
        if not object_rows:
            continue
        n, bad = await _verify_object(store, r["key"], object_rows)
        checked, blobs, read = checked + 1, blobs + len(object_rows), read + n
        found += bad
    corrupt = await _record(pool, found, req.found_by)
    return sc.ScrubReport(checked, blobs, read, corrupt, "")
