"""The content index: digest -> (size, object key). A blob is in it only after the gateway verified
its sha256 while receiving it; the first registration of a digest wins, later copies are dropped."""

from __future__ import annotations

import time

import asyncpg

from arkive_common import api, eventlog, projection
from arkive_common.errors import InvalidArgument
from arkive_common.events import BlobStored, Envelope, Event
from arkive_common.validation import check_digest, check_size

TABLES = ("hashing_blobs",)
MAX_DIGESTS = 10_000

MIGRATIONS: list[str] = [
    """
    CREATE TABLE hashing_blobs (
        digest text PRIMARY KEY, size bigint NOT NULL, key text NOT NULL, stored_at timestamptz NOT NULL);
    """,
]


def blob_stream(digest: str) -> str:
    return "blob-" + digest.removeprefix("sha256:")


async def apply(conn: asyncpg.Connection, event: Event) -> bool:
    """Applies a BlobStored; False if the digest was already indexed (the newcomer is a duplicate)."""
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


async def stat(pool: asyncpg.Pool, req: api.StatBlobs) -> api.BlobInfos:
    if len(req.digests) > MAX_DIGESTS:
        raise InvalidArgument(f"at most {MAX_DIGESTS} digests per call")
    for d in req.digests:
        check_digest(d)
    rows = await pool.fetch("SELECT digest, size, key FROM hashing_blobs WHERE digest = ANY($1::text[])", req.digests)
    return api.BlobInfos(blobs=[api.BlobInfo(r["digest"], r["size"], r["key"]) for r in rows])


async def register(pool: asyncpg.Pool, req: api.RegisterBlob) -> api.Registered:
    check_digest(req.digest)
    check_size(req.size)
    event = BlobStored(digest=req.digest, size=req.size, key=req.key, stored_at=time.time())
    async with pool.acquire() as conn, conn.transaction():
        # A concurrent registration of the same digest waits on the row lock, then finds it taken.
        if await apply(conn, event):
            await eventlog.append(conn, [eventlog.Append(blob_stream(req.digest), [event], 0)])
            return api.Registered(blob=api.BlobInfo(req.digest, req.size, req.key), already_present=False)
    row = await pool.fetchrow("SELECT digest, size, key FROM hashing_blobs WHERE digest = $1", req.digest)
    return api.Registered(blob=api.BlobInfo(row["digest"], row["size"], row["key"]), already_present=True)


async def rebuild(pool: asyncpg.Pool) -> int:
    async def replay(conn: asyncpg.Connection, env: Envelope) -> None:
        await apply(conn, env.event())

    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=("blob-",), apply=replay)
