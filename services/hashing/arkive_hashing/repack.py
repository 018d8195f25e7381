"""Repacking: a pack whose live bytes fell below a share of its size (GC removed members) is
rewritten. Packs are a storage detail: every blob keeps its own sha256 address, so moving one only
changes where the index says its bytes are.

For each such pack: its live members are read by range and re-verified by sha256, written into a
new pack object, and then, in one transaction, the index rows still pointing at the old object are
re-pointed (BlobsRepacked on a new `pack-<id>` stream, so a rebuild restores them) and the old key
is recorded as retired. The old object is deleted only after a read grace period, so a download
that resolved the old location just before the switch still finds its bytes.

Safe with GC and with other repackers: the re-pointing locks the member rows FOR UPDATE, like the
GC sweep, and moves only rows still at the old key. A member swept meanwhile is dead weight in the
new pack; a pack another repacker already moved leaves nothing to move, and our copy is deleted.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass

import asyncpg

from arkive_common import eventlog
from arkive_common.blobstore import BlobStore
from arkive_common.events import BlobsRepacked

from . import stats

log = logging.getLogger(__name__)

COMPONENT = "hashing-repack"
REPACK_BELOW = 0.5  # live bytes / pack size under which a pack is rewritten
MAX_PACKS = 100  # per call: repacking copies bytes, so one GC call does a bounded amount
COALESCE_GAP = 256 * 1024  # neighbours closer than this are read with one ranged GET
MAX_READ = 8 * 1024 * 1024  # and one read holds at most this much in memory

MIGRATIONS: list[str] = [
    """
    -- Operational, not a projection (like hashing_pending_deletes): old pack objects whose members
    -- moved, deleted from S3 once `since` is older than the read grace.
    CREATE TABLE hashing_repack_retired (key text PRIMARY KEY, since timestamptz NOT NULL DEFAULT now());
    """,
]


@dataclass
class RepackResult:
    packs: int = 0
    blobs: int = 0
    bytes_copied: int = 0
    retired_deleted: int = 0

    def fields(self) -> dict[str, int]:
        """As GcResult fields."""
        return {
            "packs_repacked": self.packs,
            "blobs_repacked": self.blobs,
            "bytes_repacked": self.bytes_copied,
            "repacked_objects_deleted": self.retired_deleted,
        }


async def retired(pool: asyncpg.Pool, keys: list[str]) -> set[str]:
    """Those of keys that are retired packs waiting for their read grace (the staging sweep keeps them)."""
    rows = await pool.fetch("SELECT key FROM hashing_repack_retired WHERE key = ANY($1::text[])", keys)
    return {r["key"] for r in rows}


async def apply(conn: asyncpg.Connection, event: BlobsRepacked) -> list[str]:
    """Projection: re-points the members still at old_key; returns their digests."""
    rows = await conn.fetch(
        "UPDATE hashing_blobs b SET key = $3, pack_offset = x.o FROM unnest($1::text[], $2::bigint[]) AS x(d, o)"
        " WHERE b.digest = x.d AND b.key = $4 RETURNING b.digest",
        [b[0] for b in event.blobs],
        [b[2] for b in event.blobs],
        event.new_key,
        event.old_key,
    )
    if rows:
        await stats.pack_indexed(conn, event.new_key, event.blobs)
    await stats.packs_emptied(conn, [event.old_key])
    return [r["digest"] for r in rows]


def _reads(members: list[asyncpg.Record]) -> list[tuple[int, int, list[asyncpg.Record]]]:
    """(start, length, members) ranged reads over members sorted by offset."""
    out: list[tuple[int, int, list[asyncpg.Record]]] = []
    for m in members:
        start, end = m["pack_offset"], m["pack_offset"] + m["size"]
        if out:
            s, length, group = out[-1]
            if start - (s + length) <= COALESCE_GAP and end - s <= MAX_READ:
                out[-1] = (s, max(s + length, end) - s, [*group, m])
                continue
        out.append((start, m["size"], [m]))
    return out


class Repacker:
    def __init__(self, pool: asyncpg.Pool, store: BlobStore) -> None:
        self.pool = pool
        self.store = store

    async def run(self, read_grace: float, below: float = REPACK_BELOW, limit: int = MAX_PACKS) -> RepackResult:
        result = RepackResult()
        result.retired_deleted += await self.purge_retired(read_grace)
        candidates = await self.pool.fetch(
            "SELECT p.key FROM hashing_packs p JOIN hashing_blobs b ON b.key = p.key"
            " GROUP BY p.key, p.size HAVING sum(b.size) < $1::float8 * p.size ORDER BY p.key LIMIT $2",
            below,
            limit,
        )
        for c in candidates:
            moved, copied = await self.repack_one(c["key"])
            if moved:
                result.packs += 1
                result.blobs += moved
                result.bytes_copied += copied
        # With a zero grace (tests, operators who know no download is running) the old objects go now.
        result.retired_deleted += await self.purge_retired(read_grace)
        return result

    async def repack_one(self, old_key: str) -> tuple[int, int]:
        """Returns (members moved, bytes written to the new object)."""
        members = await self.pool.fetch(
            "SELECT digest, size, pack_offset FROM hashing_blobs WHERE key = $1 AND pack_offset IS NOT NULL"
            " ORDER BY pack_offset",
            old_key,
        )
        if not members:
            return 0, 0
        new_id = uuid.uuid4().hex
        new_key = f"blobs/packs/{new_id}"  # under blobs/: the staging sweep collects it if we crash
        writer = self.store.writer(new_key)
        placed: list[tuple[str, int, int]] = []
        try:
            for start, length, group in _reads(members):
                buf = bytearray()
                async for chunk in self.store.read(old_key, start, length):
                    buf += chunk
                for m in group:
                    at = m["pack_offset"] - start
                    data = bytes(buf[at : at + m["size"]])
                    actual = "sha256:" + hashlib.sha256(data).hexdigest()
                    if len(data) != m["size"] or actual != m["digest"]:
                        # Never copy bad bytes under a good address; the pack stays as it is.
                        log.error("repack: %s in %s reads back as %s; pack left alone", m["digest"], old_key, actual)
                        await writer.abort()
                        return 0, 0
                    placed.append((m["digest"], m["size"], writer.size))
                    await writer.write(data)
            await writer.complete()
        except BaseException:
            await writer.abort()
            raise
        event = BlobsRepacked(old_key=old_key, new_key=new_key, blobs=placed, repacked_at=time.time())
        async with self.pool.acquire() as conn, conn.transaction():
            # Same lock order as the GC sweep (by digest): a sweep either went first (its rows are
            # gone) or waits and then sees the new key.
            await conn.execute(
                "SELECT 1 FROM hashing_blobs WHERE key = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR UPDATE",
                old_key,
                [p[0] for p in placed],
            )
            moved = await apply(conn, event)
            if moved:
                await conn.execute(
                    "INSERT INTO hashing_repack_retired (key) VALUES ($1) ON CONFLICT DO NOTHING", old_key
                )
                await eventlog.append(conn, [eventlog.Append(f"pack-{new_id}", [event], 0)])
        if not moved:  # swept or repacked by someone else meanwhile: our copy is unreferenced
            await self.store.delete(new_key)
            return 0, 0
        return len(moved), writer.size

    async def purge_retired(self, read_grace: float) -> int:
        rows = await self.pool.fetch(
            "SELECT r.key FROM hashing_repack_retired r WHERE r.since <= now() - make_interval(secs => $1)"
            " AND NOT EXISTS (SELECT 1 FROM hashing_blobs b WHERE b.key = r.key)",
            float(read_grace),
        )
        for r in rows:
            await self.store.delete(r["key"])
            await self.pool.execute("DELETE FROM hashing_repack_retired WHERE key = $1", r["key"])
        return len(rows)
