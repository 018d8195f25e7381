"""The content index: digest -> (size, object key). A blob is in it only after the gateway verified
its sha256 while receiving it; the first registration of a digest wins, later copies are dropped."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest, check_size

from arkive_common import api, eventlog, projection
from arkive_common.events import (
    BlobsCorrupted,
    BlobsDeleted,
    BlobsPacked,
    BlobsRepacked,
    BlobStored,
    Envelope,
    Event,
)

from . import chunks, repack, stats

TABLES = ("hashing_blobs", "hashing_packs", *chunks.TABLES)  # hashing_packs: stats.MIGRATIONS
MAX_DIGESTS = 10_000

MIGRATIONS: list[str] = [
    """
    CREATE TABLE hashing_blobs (
        digest text PRIMARY KEY, size bigint NOT NULL, key text NOT NULL, stored_at timestamptz NOT NULL);
    """,
    # garbage collection (gc.py)
    """
    CREATE INDEX hashing_blobs_key ON hashing_blobs (key);
    -- Not projections of events, so a rebuild leaves them alone: leases are short-lived promises to
    -- callers, pending deletes are S3 objects whose index rows are already gone.
    CREATE TABLE hashing_leases (digest text PRIMARY KEY, touched_at timestamptz NOT NULL);
    CREATE TABLE hashing_pending_deletes (key text PRIMARY KEY, since timestamptz NOT NULL DEFAULT now());
    """,
    # small-file packs: a packed blob lives at [pack_offset, pack_offset + size) of the object `key`
    """
    ALTER TABLE hashing_blobs ADD COLUMN pack_offset bigint;
    """,
    *chunks.MIGRATIONS,  # chunk index and composite blobs
]


def blob_stream(digest: str) -> str:
    return "blob-" + digest.removeprefix("sha256:")


async def apply(conn: asyncpg.Connection, event: Event) -> bool:
    """Applies a BlobStored; False if the digest was already indexed (the newcomer is a duplicate)."""
    if await chunks.apply(conn, event):
        return True
    if isinstance(event, BlobsDeleted):  # by (digest, key): a later re-upload has another key
        digests, keys = [b[0] for b in event.blobs], [b[1] for b in event.blobs]
        await conn.execute(
            "DELETE FROM hashing_blobs b USING unnest($1::text[], $2::text[]) AS x(d, k)"
            " WHERE b.digest = x.d AND b.key = x.k",
            digests,
            keys,
        )
        await stats.packs_emptied(conn, sorted(set(keys)))
        return True
    if isinstance(event, BlobsCorrupted):
        await _apply_corrupted(conn, event)
        return True
    if isinstance(event, BlobsPacked):
        return bool(await _apply_pack(conn, event))
    if isinstance(event, BlobsRepacked):
        return bool(await repack.apply(conn, event))
    if not isinstance(event, BlobStored):
        return False
    inserted = await conn.fetchval(
        "INSERT INTO hashing_blobs (digest, size, key, stored_at) VALUES ($1, $2, $3, to_timestamp($4))"
        " ON CONFLICT (digest) DO NOTHING RETURNING 1",
        event.digest,
        event.size,
        event.key,
        event.stored_at,
    )
    return inserted is not None


async def _apply_corrupted(conn: asyncpg.Connection, event: BlobsCorrupted) -> None:
    """Drops the corrupt (digest, key) rows, and every composite blob built from one of them: its
    bytes can no longer be served, so it must count as missing too and be uploaded again."""
    digests, keys = [b[0] for b in event.blobs], [b[1] for b in event.blobs]
    await conn.execute(
        "DELETE FROM hashing_blobs b USING unnest($1::text[], $2::text[]) AS x(d, k)"
        " WHERE b.digest = x.d AND b.key = x.k",
        digests,
        keys,
    )
    await conn.execute(
        "DELETE FROM hashing_blobs b WHERE b.key = ANY(SELECT $2 || r.digest FROM hashing_recipes r"
        " WHERE r.chunk_digest = ANY($1::text[]))",
        digests,
        api.RECIPE_KEY_PREFIX,
    )
    await stats.packs_emptied(conn, sorted(set(keys)))


async def _apply_pack(conn: asyncpg.Connection, event: BlobsPacked) -> list[str]:
    """Indexes the pack's members not indexed yet; returns their digests."""
    rows = await conn.fetch(
        "INSERT INTO hashing_blobs (digest, size, key, stored_at, pack_offset)"
        " SELECT d, s, $4, to_timestamp($5), o FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x(d, s, o)"
        " ORDER BY d ON CONFLICT (digest) DO NOTHING RETURNING digest",
        [b[0] for b in event.blobs],
        [b[1] for b in event.blobs],
        [b[2] for b in event.blobs],
        event.key,
        event.stored_at,
    )
    if rows:
        await stats.pack_indexed(conn, event.key, event.blobs)
    return [r["digest"] for r in rows]


def _info(r: asyncpg.Record) -> api.BlobInfo:
    offset = r["pack_offset"]
    return api.BlobInfo(r["digest"], r["size"], r["key"], -1 if offset is None else offset)


async def register_pack(pool: asyncpg.Pool, req: api.RegisterPack) -> api.PackRegistered:
    for digest, size, offset in req.blobs:
        check_digest(digest)
        check_size(size)
        check_size(offset)
    check_size(req.received)
    event = BlobsPacked(key=req.key, blobs=req.blobs, stored_at=time.time())
    async with pool.acquire() as conn, conn.transaction():
        stored = await _apply_pack(conn, event)
        if not stored:
            # The same request again (the bus re-sends a registration whose answer was lost): the
            # members already indexed at this very key are this pack's, not someone else's, and
            # the caller must keep the object (it deletes a pack none of whose members it stored).
            stored = [
                r["digest"]
                for r in await conn.fetch(
                    "SELECT digest FROM hashing_blobs WHERE key = $1 AND digest = ANY($2::text[])",
                    req.key,
                    [b[0] for b in req.blobs],
                )
            ]
            replayed = True
        else:
            replayed = False
        sizes = {b[0]: b[1] for b in req.blobs}
        if not replayed:
            await stats.bump(
                conn, received=req.received, stored_bytes=sum(sizes[d] for d in stored), stored_blobs=len(stored)
            )
        if stored and not replayed:
            # One event for the whole pack: thousands of small blobs cost one log row.
            await eventlog.append(conn, [eventlog.Append(f"pack-{req.key.rsplit('/', 1)[-1]}", [event], 0)])
    if len(stored) < len(req.blobs):  # the caller relies on the indexed copies of the others
        await lease(pool, api.StatBlobs(sorted({b[0] for b in req.blobs} - set(stored))))
    return api.PackRegistered(
        stored=len(stored), already_present=len(req.blobs) - len(stored), stored_bytes=sum(sizes[d] for d in stored)
    )


async def stat(pool: asyncpg.Pool, req: api.StatBlobs) -> api.BlobInfos:
    if len(req.digests) > MAX_DIGESTS:
        raise InvalidArgument(f"at most {MAX_DIGESTS} digests per call")
    for d in req.digests:
        check_digest(d)
    rows = await pool.fetch(
        "SELECT digest, size, key, pack_offset FROM hashing_blobs WHERE digest = ANY($1::text[])", req.digests
    )
    return api.BlobInfos(blobs=[_info(r) for r in rows])


async def register(pool: asyncpg.Pool, req: api.RegisterBlob) -> api.Registered:
    check_digest(req.digest)
    check_size(req.size)
    check_size(req.received)
    event = BlobStored(digest=req.digest, size=req.size, key=req.key, stored_at=time.time())
    async with pool.acquire() as conn, conn.transaction():
        # A concurrent registration of the same digest waits on the row lock, then finds it taken.
        if await apply(conn, event):
            await stats.bump(conn, received=req.received, stored_bytes=req.size, stored_blobs=1)
            # The row insert is the arbiter; the stream may hold an earlier life of this digest
            # (stored, collected by GC, uploaded again), so no expected version.
            await eventlog.append(conn, [eventlog.Append(blob_stream(req.digest), [event], None)])
            return api.Registered(blob=api.BlobInfo(req.digest, req.size, req.key), already_present=False)
        await stats.bump(conn, received=req.received)  # a duplicate: received, then dropped
    # The caller drops its copy and relies on the one indexed: lease it so GC keeps it. If GC removed
    # it meanwhile, register this copy after all.
    leased = (await lease(pool, api.StatBlobs([req.digest]))).blobs
    if not leased:
        return await register(pool, msgspec.structs.replace(req, received=0))  # counted above
    # Callers drop their copy only when the indexed one lives at another key: a request re-sent by
    # the bus after a lost answer finds its own key here and must keep that object.
    return api.Registered(blob=leased[0], already_present=True)


async def lease(pool: asyncpg.Pool, req: api.StatBlobs) -> api.BlobInfos:
    """stat() that also keeps the blobs it finds from GC for the grace period (see gc.py)."""
    if len(req.digests) > MAX_DIGESTS:
        raise InvalidArgument(f"at most {MAX_DIGESTS} digests per call")
    digests = sorted({check_digest(d) for d in req.digests})
    for attempt in range(10):
        try:
            async with pool.acquire() as conn, conn.transaction():
                # Sorted FOR SHARE + sorted upsert: concurrent leases lock rows in one order.
                rows = await conn.fetch(
                    "SELECT digest, size, key, pack_offset FROM hashing_blobs WHERE digest = ANY($1::text[])"
                    " ORDER BY digest FOR SHARE",
                    digests,
                )
                if rows:
                    await conn.execute(
                        "INSERT INTO hashing_leases (digest, touched_at) SELECT unnest($1::text[]), now()"
                        " ON CONFLICT (digest) DO UPDATE SET touched_at = EXCLUDED.touched_at",
                        [r["digest"] for r in rows],
                    )
            return api.BlobInfos(blobs=[_info(r) for r in rows])
        except asyncpg.DeadlockDetectedError:
            await asyncio.sleep(0.01 * (attempt + 1))
    raise InvalidArgument("lease contention; retry")


async def rebuild(pool: asyncpg.Pool) -> int:
    async def replay(conn: asyncpg.Connection, env: Envelope) -> None:
        await apply(conn, env.event())

    prefixes = ("blob-", "pack-", "gc-", "scrub-")
    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=prefixes, apply=replay)
