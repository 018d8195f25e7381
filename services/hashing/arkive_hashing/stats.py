"""Byte counters of the blob plane, kept in Postgres so that N gateway and hashing replicas add up.

Two kinds of numbers (GetBlobStats answers both):

* Projections of the log (rebuilt by `arkive admin rebuild-projections`): blobs indexed and their
  logical bytes come from `hashing_blobs`; physical objects and bytes from `hashing_blobs` (a blob
  stored alone is one object of its size) plus `hashing_packs` (one row per pack object, its size
  taken from the BlobsPacked event, counted while any member is still indexed, so the dead bytes of
  partly collected packs show up as physical minus logical).
* Operational counters (`hashing_counters`, never rebuilt, like leases): bytes the gateways
  received in uploads that passed verification, including duplicates they dropped, and the bytes
  and blobs newly indexed. They are bumped in the transaction that registers the blobs, so a
  registration counts exactly once; rows are sharded so concurrent uploads do not queue on one row.
"""

from __future__ import annotations

import random

import asyncpg

from arkive_common import api

COMPONENT = "hashing-stats"
SHARDS = 16
RECEIVED, STORED_BYTES, STORED_BLOBS = "bytes_received", "bytes_stored", "blobs_stored"

MIGRATIONS: list[str] = [
    """
    CREATE TABLE hashing_packs (key text PRIMARY KEY, size bigint NOT NULL);
    CREATE TABLE hashing_counters (
        name text NOT NULL, shard int NOT NULL, value bigint NOT NULL, PRIMARY KEY (name, shard));
    """,
]


async def bump(conn: asyncpg.Connection, *, received: int = 0, stored_bytes: int = 0, stored_blobs: int = 0) -> None:
    """Adds to the operational counters inside the caller's transaction (one random shard)."""
    names, values = [], []
    for name, value in ((RECEIVED, received), (STORED_BYTES, stored_bytes), (STORED_BLOBS, stored_blobs)):
        if value:
            names.append(name)
            values.append(value)
    if not names:
        return
    await conn.execute(
        "INSERT INTO hashing_counters (name, shard, value) SELECT n, $3, v FROM unnest($1::text[], $2::bigint[]) AS"
        " x(n, v) ON CONFLICT (name, shard) DO UPDATE SET value = hashing_counters.value + EXCLUDED.value",
        names,
        values,
        random.randrange(SHARDS),
    )


async def pack_indexed(conn: asyncpg.Connection, key: str, blobs: list[tuple[str, int, int]]) -> None:
    """Projection: a pack object with at least one indexed member (its size is the end of its last member)."""
    size = max((offset + size for _, size, offset in blobs), default=0)
    await conn.execute("INSERT INTO hashing_packs (key, size) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, size)


async def packs_emptied(conn: asyncpg.Connection, keys: list[str]) -> None:
    """Projection: forgets pack objects none of whose members is indexed any more."""
    await conn.execute(
        "DELETE FROM hashing_packs p WHERE p.key = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM hashing_blobs b WHERE b.key = p.key)",
        keys,
    )


async def count_received(pool: asyncpg.Pool, req: api.CountReceived) -> api.Empty:
    """An upload of a blob that was already stored: its bytes were received and dropped."""
    if req.received > 0:
        async with pool.acquire() as conn, conn.transaction():
            await bump(conn, received=req.received)
    return api.Empty()


async def blob_stats(pool: asyncpg.Pool) -> api.BlobStats:
    # One snapshot, so the projection numbers agree with each other.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        blobs = await conn.fetchrow(
            # Chunks the server cut from a stored blob (parent set) are ranges of that blob, not more
            # content; a composite (recipe key) is content whose bytes live in its chunks' objects.
            "SELECT count(*) FILTER (WHERE parent IS NULL) AS n, coalesce(sum(size) FILTER (WHERE parent IS NULL), 0)"
            " AS b, count(*) FILTER (WHERE pack_offset IS NULL AND NOT starts_with(key, $1)) AS whole,"
            " coalesce(sum(size) FILTER (WHERE pack_offset IS NULL AND NOT starts_with(key, $1)), 0) AS whole_b"
            " FROM hashing_blobs",
            api.RECIPE_KEY_PREFIX,
        )
        packs = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM hashing_packs p"
            " WHERE EXISTS (SELECT 1 FROM hashing_blobs b WHERE b.key = p.key)"
        )
        counters = {
            r["name"]: int(r["v"])
            for r in await conn.fetch("SELECT name, sum(value) AS v FROM hashing_counters GROUP BY name")
        }
    return api.BlobStats(
        blobs_indexed=blobs["n"],
        logical_bytes=int(blobs["b"]),
        physical_objects=blobs["whole"] + packs["n"],
        physical_bytes=int(blobs["whole_b"]) + int(packs["b"]),
        pack_objects=packs["n"],
        pack_bytes=int(packs["b"]),
        bytes_received=counters.get(RECEIVED, 0),
        bytes_stored=counters.get(STORED_BYTES, 0),
        blobs_stored=counters.get(STORED_BLOBS, 0),
    )
