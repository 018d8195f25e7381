"""The chunk index and composite blobs (docs/architecture.md, "Chunk dedup").

* Chunks are ordinary index rows (digest, size, key, pack_offset) whose bytes are a range of an
  object already stored; `parent` names the blob they were cut from. So FindMissingBlobs, leases,
  ranged reads and GC treat them like any packed blob.
* A composite blob's row has the key "recipe:<digest>" (no object); its bytes are the chunks listed
  in hashing_recipes, in order. The gateway verified their concatenation hashes to the digest.
"""

from __future__ import annotations

import time

import asyncpg
from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.validation import check_digest, check_size

from arkive_common import api, eventlog
from arkive_common.events import BlobChunked, BlobComposed, BlobsDeleted, Event

TABLES = ("hashing_recipes",)
EVENT_CHUNKS = 2_000  # per event (at most eventlog.MAX_EVENT_BYTES) at ~100 bytes a chunk
MAX_PART = 10_000
MAX_RECIPE_PAGE = 4_000

MIGRATIONS: list[str] = [
    """
    ALTER TABLE hashing_blobs ADD COLUMN parent text;
    CREATE INDEX hashing_blobs_parent ON hashing_blobs (parent) WHERE parent IS NOT NULL;
    CREATE TABLE hashing_recipes (
        digest text NOT NULL, seq integer NOT NULL, chunk_digest text NOT NULL, size bigint NOT NULL,
        pos bigint NOT NULL, PRIMARY KEY (digest, seq));
    CREATE INDEX hashing_recipes_chunk ON hashing_recipes (chunk_digest);
    -- Operational, not a projection: recipe parts of a ComposeBlob still in progress.
    CREATE TABLE hashing_compose_staging (
        upload_id text NOT NULL, seq integer NOT NULL, chunk_digest text NOT NULL,
        since timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (upload_id, seq));
    """,
]


def recipe_key(digest: str) -> str:
    return api.RECIPE_KEY_PREFIX + digest


async def apply(conn: asyncpg.Connection, event: Event) -> bool:
    """Applies the chunk-index side of an event; False if it is not one of ours."""
    if isinstance(event, BlobChunked):
        await conn.execute(
            "INSERT INTO hashing_blobs (digest, size, key, stored_at, pack_offset, parent)"
            " SELECT d, s, $4, to_timestamp($5), o, $6"
            " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x(d, s, o)"
            " ORDER BY d ON CONFLICT (digest) DO NOTHING",
            [c[0] for c in event.chunks],
            [c[1] for c in event.chunks],
            [c[2] for c in event.chunks],
            event.key,
            event.chunked_at,
            event.digest,
        )
        return True
    if isinstance(event, BlobComposed):
        if event.first == 0:
            await conn.execute(
                "INSERT INTO hashing_blobs (digest, size, key, stored_at) VALUES ($1, $2, $3, to_timestamp($4))"
                " ON CONFLICT (digest) DO NOTHING",
                event.digest,
                event.size,
                recipe_key(event.digest),
                event.composed_at,
            )
        pos = 0
        if event.first:
            pos = await conn.fetchval(
                "SELECT pos + size FROM hashing_recipes WHERE digest = $1 AND seq = $2", event.digest, event.first - 1
            )
        positions = []
        for _, size in event.chunks:
            positions.append(pos)
            pos += size
        await conn.execute(
            "INSERT INTO hashing_recipes (digest, seq, chunk_digest, size, pos)"
            " SELECT $1, $2 + n - 1, d, s, p FROM unnest($3::text[], $4::bigint[], $5::bigint[])"
            " WITH ORDINALITY AS x(d, s, p, n)",
            event.digest,
            event.first,
            [c[0] for c in event.chunks],
            [c[1] for c in event.chunks],
            positions,
        )
        return True
    if isinstance(event, BlobsDeleted):  # a swept composite takes its recipe with it
        composites = [d for d, k, _ in event.blobs if k.startswith(api.RECIPE_KEY_PREFIX)]
        if composites:
            await conn.execute("DELETE FROM hashing_recipes WHERE digest = ANY($1::text[])", composites)
        return False  # index.apply still removes the rows
    return False


async def compose(pool: asyncpg.Pool, req: api.ComposeBlob) -> api.Composed:
    """Stages a recipe part, or (last part) registers the composite. The gateway has verified the
    bytes; this re-checks under row locks that every chunk is still indexed (GC may have raced)."""
    check_digest(req.digest)
    check_size(req.size)
    if len(req.chunks) > MAX_PART:
        raise InvalidArgument(f"at most {MAX_PART} chunks per part")
    for d in req.chunks:
        check_digest(d)
    async with pool.acquire() as conn, conn.transaction():
        if not req.last:
            await conn.execute(
                "INSERT INTO hashing_compose_staging (upload_id, seq, chunk_digest)"
                " SELECT $1, $2 + n - 1, d FROM unnest($3::text[]) WITH ORDINALITY AS x(d, n)"
                " ON CONFLICT DO NOTHING",
                req.upload_id,
                req.first,
                req.chunks,
            )
            return api.Composed()
        staged = await conn.fetch(
            "DELETE FROM hashing_compose_staging WHERE upload_id = $1 RETURNING seq, chunk_digest", req.upload_id
        )
        # Abandoned uploads (a gateway died between parts) are dropped by later compositions.
        await conn.execute("DELETE FROM hashing_compose_staging WHERE since < now() - interval '1 day'")
        digests = [r["chunk_digest"] for r in sorted(staged, key=lambda r: r["seq"])]
        if len(digests) != req.first:
            raise FailedPrecondition("recipe parts are missing; compose again")
        digests += req.chunks
        if not digests:
            raise InvalidArgument("a composite blob needs at least one chunk")
        rows = await conn.fetch(
            "SELECT digest, size, key FROM hashing_blobs WHERE digest = ANY($1::text[]) ORDER BY digest FOR SHARE",
            sorted(set(digests)),
        )
        found = {r["digest"]: r for r in rows}
        for d in digests:
            if d not in found:
                raise FailedPrecondition(f"chunk {d} is not stored")
            if found[d]["key"].startswith(api.RECIPE_KEY_PREFIX):
                raise InvalidArgument(f"chunk {d} is itself a composite blob")
        chunks = [(d, found[d]["size"]) for d in digests]
        if sum(s for _, s in chunks) != req.size:
            raise InvalidArgument(f"the chunks add up to {sum(s for _, s in chunks)} bytes, not {req.size}")
        now = time.time()
        # The row insert is the arbiter (as in index.register): a concurrent upload or composition of
        # the same digest waits on it and then finds it taken.
        inserted = await conn.fetchval(
            "INSERT INTO hashing_blobs (digest, size, key, stored_at) VALUES ($1, $2, $3, to_timestamp($4))"
            " ON CONFLICT (digest) DO NOTHING RETURNING 1",
            req.digest,
            req.size,
            recipe_key(req.digest),
            now,
        )
        if inserted is None:
            return api.Composed(already_present=True)
        events = [
            BlobComposed(
                digest=req.digest, size=req.size, chunks=chunks[i : i + EVENT_CHUNKS], first=i, composed_at=now
            )
            for i in range(0, len(chunks), EVENT_CHUNKS)
        ]
        for e in events:
            await apply(conn, e)
        stream = "blob-" + req.digest.removeprefix("sha256:")
        await eventlog.append(conn, [eventlog.Append(stream, events, None)])
    return api.Composed()


async def recipe(pool: asyncpg.Pool, q: api.RecipeQuery) -> api.RecipePage:
    check_digest(q.digest)
    limit = max(1, min(q.limit, MAX_RECIPE_PAGE))
    rows = await pool.fetch(
        "SELECT r.pos, r.chunk_digest, r.size, b.key, b.pack_offset FROM hashing_recipes r"
        " LEFT JOIN hashing_blobs b ON b.digest = r.chunk_digest"
        " WHERE r.digest = $1 AND r.pos + r.size > $2 ORDER BY r.seq LIMIT $3",
        q.digest,
        q.offset,
        limit,
    )
    out = []
    for r in rows:
        if r["key"] is None:  # GC keeps recipe chunks; this would be a bug, not a user error
            raise FailedPrecondition(f"chunk {r['chunk_digest']} of {q.digest} is missing from the index")
        offset = r["pack_offset"]
        out.append((r["pos"], api.BlobInfo(r["chunk_digest"], r["size"], r["key"], -1 if offset is None else offset)))
    return api.RecipePage(chunks=out)


async def still_needed(pool: asyncpg.Pool | asyncpg.Connection, digests: list[str]) -> set[str]:
    """Of these GC candidates, the chunks that must stay: in the recipe of an indexed composite, or
    cut from a blob still indexed (so its next edit can re-use them)."""
    rows = await pool.fetch(
        "SELECT c.digest FROM hashing_blobs c WHERE c.digest = ANY($1::text[]) AND c.parent IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM hashing_blobs p WHERE p.digest = c.parent)"
        " UNION SELECT r.chunk_digest FROM hashing_recipes r"
        " WHERE r.chunk_digest = ANY($1::text[]) AND EXISTS (SELECT 1 FROM hashing_blobs b WHERE b.digest = r.digest)",
        digests,
    )
    return {r[0] for r in rows}
