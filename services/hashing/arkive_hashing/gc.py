"""Garbage collection of blobs in steps that the gateway runs in order (arkive_gateway/gc.py):
begin, then for each page of candidates: flush (take and release their blob locks), ask ingest
which are referenced, sweep the others (drop them from the content index under the locks, then
delete their objects); finish with staging, repack and totals. Hashing never calls ingest.

Why nothing referenced is ever lost (docs/architecture.md, "GC safety"):
* A candidate was stored before `cutoff` = start - grace, and is not leased since `cutoff`.
* Whoever is about to reference a blob (FindMissingBlobs said "present", UploadBlob found it, ingest
  checks entries before adding them to a draft) takes a *lease* first: `lease()` locks the index row
  FOR SHARE and stamps hashing_leases in one transaction. The sweep locks candidate rows FOR UPDATE
  and only then reads the leases, so a lease either committed before (and is seen) or waits for the
  sweep and then finds the blob gone (the caller gets a clean FAILED_PRECONDITION, never a dangling
  reference).
* Ingest answers "referenced?" in one statement (one snapshot) over live versions, versions deleted
  less than the undelete grace ago and open drafts.
* Whatever the grace, a reference recorded after ingest answered cannot lose its blob. Every
  transaction that adds references to a draft holds the blobs' advisory locks (arkive_common.
  blob_locks) SHARED while it leases the blobs (or, for a draft from a base version, while the base
  references them) and commits. The flush takes them EXCLUSIVE and lets go *before* ingest is asked:
  an add that held them then has committed and is in ingest's answer; an add that takes them after
  leases its blobs after the flush, so later than the cutoff, and the sweep (under the locks again)
  sees that lease and keeps the blob, or, if the sweep went first, the add finds the blob gone
  (FAILED_PRECONDITION).
* A caller cannot pass a grace below the operator's floor (ARKIVE_GC_MIN_GRACE_SECONDS, default one
  hour): the grace also protects uploads in flight and blobs a client was told are present.
* The index rows go first (with a BlobsDeleted event, in one transaction that also records the
  object keys in hashing_pending_deletes); S3 objects are deleted after that commit. A crash in
  between leaves pending keys, purged at the start of the next sweep: resuming is just running again.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import datetime

import asyncpg
from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest

from arkive_common import api, blob_locks, eventlog, metrics
from arkive_common import api_gc as ag
from arkive_common import api_retention as ra
from arkive_common.blobstore import BlobStore
from arkive_common.events import BlobsDeleted

from . import chunks, index, repack

MAX_LEASE = index.MAX_DIGESTS
S3_BATCH = 1000  # DeleteObjects takes at most 1000 keys
S3_IN_FLIGHT = 4
LEASE_RETENTION = "7 days"
DEFAULT_MIN_GRACE = 3600.0


def min_grace() -> float:
    """The smallest grace a caller may ask a deleting sweep for (ARKIVE_GC_MIN_GRACE_SECONDS,
    default one hour; tests lower it to 0). Read once at start."""
    raw = os.environ.get("ARKIVE_GC_MIN_GRACE_SECONDS", "")
    try:
        value = float(raw) if raw else DEFAULT_MIN_GRACE
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise ValueError(f"ARKIVE_GC_MIN_GRACE_SECONDS must be a number of seconds >= 0, not {raw!r}")
    return value


class Collector:
    def __init__(self, pool: asyncpg.Pool, store: BlobStore, min_grace: float = DEFAULT_MIN_GRACE) -> None:
        self.pool = pool
        self.store = store
        self.min_grace = min_grace
        self._s3_limit = asyncio.Semaphore(S3_IN_FLIGHT)

    async def _delete_objects(self, keys: list[str]) -> None:
        for i in range(0, len(keys), S3_BATCH):
            chunk = keys[i : i + S3_BATCH]
            async with self._s3_limit:
                resp = await self.store.s3.delete_objects(
                    Bucket=self.store.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            failed = [e for e in resp.get("Errors", []) if e.get("Code") not in ("NoSuchKey", None)]
            if failed:
                raise RuntimeError(f"S3 refused to delete {len(failed)} objects, e.g. {failed[0]}")
            await self.pool.execute("DELETE FROM hashing_pending_deletes WHERE key = ANY($1::text[])", chunk)

    async def purge_pending(self) -> int:
        """Deletes the objects of blobs already removed from the index (left by a crashed sweep)."""
        purged = 0
        while keys := [r["key"] for r in await self.pool.fetch("SELECT key FROM hashing_pending_deletes LIMIT 10000")]:
            await asyncio.gather(*(self._delete_objects(keys[i : i + S3_BATCH]) for i in range(0, len(keys), S3_BATCH)))
            purged += len(keys)
        return purged

    async def _sweep_batch(self, sweep_id: str, digests: list[str], cutoff: datetime) -> tuple[int, list[str], int]:
        """Removes unreferenced, unleased candidates from the index; returns how many, the object
        keys to delete and the bytes freed."""
        async with self.pool.acquire() as conn, conn.transaction():
            # Locks first, before any row lock (see blob_locks): from here until
            # COMMIT no reference to these blobs can be added, and every add that began before has
            # committed or rolled back, so the answer below is final for this batch.
            await blob_locks.hold_exclusive(conn, digests)
            rows = await conn.fetch(
                "SELECT digest, key, size FROM hashing_blobs WHERE digest = ANY($1::text[]) AND stored_at < $2"
                " ORDER BY digest FOR UPDATE",
                digests,
                cutoff,
            )
            # Asked after the row locks: a composition that committed before them (its recipe
            # names a candidate chunk) is seen here; a later one waits and finds it gone.
            needed = await chunks.still_needed(conn, digests)
            rows = [r for r in rows if r["digest"] not in needed]
            # Read after taking the row locks: a lease that committed before them is seen here.
            leased = {
                r["digest"]
                for r in await conn.fetch(
                    "SELECT digest FROM hashing_leases WHERE digest = ANY($1::text[]) AND touched_at >= $2",
                    digests,
                    cutoff,
                )
            }
            doomed = [(r["digest"], r["key"], r["size"]) for r in rows if r["digest"] not in leased]
            if not doomed:
                return 0, [], 0
            event = BlobsDeleted(sweep_id=sweep_id, blobs=doomed, deleted_at=time.time())
            await index.apply(conn, event)
            # A pack object holds many blobs: it goes only once no indexed blob lives in it. (Two
            # sweeps emptying one pack at once may both keep it; the staging sweep collects it.)
            keys = sorted({k for _, k, _ in doomed})
            alive = {
                r["key"]
                for r in await conn.fetch("SELECT DISTINCT key FROM hashing_blobs WHERE key = ANY($1::text[])", keys)
            }
            # Objects outside blobs/ were registered where their owner put them (register): GC only
            # forgets them (the index row above), it never deletes them. Recipes are not objects.
            keys = [k for k in keys if k not in alive and k.startswith("blobs/")]
            await conn.execute(
                "INSERT INTO hashing_pending_deletes (key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", keys
            )
            await conn.execute("DELETE FROM hashing_leases WHERE digest = ANY($1::text[])", [d for d, _, _ in doomed])
            await eventlog.append(conn, [eventlog.Append(f"gc-{sweep_id}", [event], None)])
        return len(doomed), keys, sum(s for _, _, s in doomed)

    async def begin(self, req: ra.CollectGarbage) -> ag.GcStarted:
        if req.grace_seconds < 0:
            raise InvalidArgument("grace_seconds must not be negative")
        if not req.dry_run and req.grace_seconds < self.min_grace:
            raise InvalidArgument(
                f"grace_seconds {req.grace_seconds:g} is below this server's minimum of {self.min_grace:g}"
                " (ARKIVE_GC_MIN_GRACE_SECONDS); refused, nothing was collected (a dry run may use any grace)"
            )
        for d in req.digests:
            check_digest(d)
        await self.store.ensure_bucket()  # a deployment may run GC before any gateway created it
        pending = 0 if req.dry_run else await self.purge_pending()
        cutoff = await self.pool.fetchval("SELECT now() - make_interval(secs => $1)", float(req.grace_seconds))
        return ag.GcStarted(sweep_id=uuid.uuid4().hex, cutoff=cutoff, pending_purged=pending)

    async def candidates(self, q: ag.GcCandidates) -> ag.GcPage:
        """One page of (digest, size) stored before the cutoff and not leased since, by digest,
        without the chunks some blob still needs (asked again under the locks by the sweep)."""
        size = max(1, min(q.batch_size, MAX_LEASE))
        rows = await self.pool.fetch(
            "SELECT b.digest, b.size FROM hashing_blobs b WHERE b.digest > $1 AND b.stored_at < $2"
            " AND ($4::text[] IS NULL OR b.digest = ANY($4::text[]))"
            " AND NOT EXISTS (SELECT 1 FROM hashing_leases l WHERE l.digest = b.digest AND l.touched_at >= $2)"
            " ORDER BY b.digest LIMIT $3",
            q.after,
            q.cutoff,
            size,
            q.digests or None,
        )
        needed = await chunks.still_needed(self.pool, [r["digest"] for r in rows])
        kept = [r for r in rows if r["digest"] not in needed]
        return ag.GcPage(
            digests=[r["digest"] for r in kept],
            sizes=[r["size"] for r in kept],
            next_after=rows[-1]["digest"] if len(rows) == size else "",
        )

    async def flush(self, q: ag.GcFlush) -> api.Empty:
        """Takes these blobs' locks EXCLUSIVE and lets go: every add that held them has committed."""
        for i in range(0, len(q.digests), blob_locks.MAX_SWEEP_BATCH):
            async with self.pool.acquire() as conn, conn.transaction():
                await blob_locks.hold_exclusive(conn, q.digests[i : i + blob_locks.MAX_SWEEP_BATCH])
        return api.Empty()

    async def sweep(self, q: ag.GcSweep) -> ag.GcSwept:
        """Drops the unreferenced, unleased ones of these from the index (small transactions: each
        holds the locks of at most MAX_SWEEP_BATCH digests), then deletes their objects."""
        deleted = freed = 0
        s3_tasks: list[asyncio.Task[None]] = []
        try:
            for i in range(0, len(q.digests), blob_locks.MAX_SWEEP_BATCH):
                part = q.digests[i : i + blob_locks.MAX_SWEEP_BATCH]
                count, keys, nbytes = await self._sweep_batch(q.sweep_id, part, q.cutoff)
                deleted += count
                freed += nbytes
                if keys:
                    s3_tasks.append(asyncio.create_task(self._delete_objects(keys)))
            await asyncio.gather(*s3_tasks)
        except BaseException:
            metrics.GC_RUNS.labels("failed").inc()  # counted here: the collection stops with this step
            raise
        return ag.GcSwept(deleted=deleted, bytes_freed=freed)

    async def finish(self, q: ag.GcFinish) -> ra.GcResult:
        req, cutoff = q.request, q.started.cutoff
        staging = 0
        if req.staging and not req.dry_run:
            staging = await self.sweep_staging(req, cutoff)
        packed = repack.RepackResult()
        if req.repack and not req.dry_run:
            packed = await repack.Repacker(self.pool, self.store).run(req.repack_read_grace_seconds)
        totals = await self.pool.fetchrow("SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM hashing_blobs")
        if not req.dry_run and not req.digests:
            await self.pool.execute(
                f"DELETE FROM hashing_leases WHERE touched_at < now() - interval '{LEASE_RETENTION}'"
            )
        if not req.dry_run:  # a collection on /metrics (a dry run deletes nothing)
            metrics.GC_RUNS.labels("ok").inc()
            metrics.GC_DELETED_BLOBS.inc(q.deleted)
            metrics.GC_FREED_BYTES.inc(q.bytes_freed)
            metrics.GC_SECONDS.observe(q.seconds)
            metrics.GC_LAST_SUCCESS.set(time.time())
        return ra.GcResult(
            sweep_id=q.started.sweep_id,
            blobs_total=totals["n"],
            bytes_total=int(totals["b"]),
            blobs_unreferenced=q.unreferenced,
            blobs_deleted=q.deleted,
            bytes_freed=q.bytes_freed,
            staging_deleted=staging,
            pending_purged=q.started.pending_purged,
            seconds=q.seconds,
            **packed.fields(),
        )

    async def sweep_staging(self, req: ra.CollectGarbage, cutoff: datetime) -> int:
        """Deletes objects under blobs/ that the index does not know and that are older than the
        cutoff: uploads whose client or gateway died before registering, losing copies of racing
        uploads whose delete failed. The grace must exceed the longest single upload."""
        if req.digests:
            prefixes = [f"blobs/sha256/{d[7:9]}/{d[7:]}/" for d in req.digests]
        else:
            prefixes = ["blobs/" + req.staging_prefix]
        deleted = 0
        paginator = self.store.s3.get_paginator("list_objects_v2")
        for prefix in prefixes:
            async for page in paginator.paginate(Bucket=self.store.bucket, Prefix=prefix):
                old = [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
                if not old:
                    continue
                known = {
                    r["key"] for r in await self.pool.fetch("SELECT key FROM hashing_blobs WHERE key = ANY($1)", old)
                } | await repack.retired(self.pool, old)  # repack deletes those after its read grace
                orphans = [k for k in old if k not in known]
                if orphans:
                    await self.pool.execute(
                        "INSERT INTO hashing_pending_deletes (key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                        orphans,
                    )
                    await self._delete_objects(orphans)
                    deleted += len(orphans)
        return deleted
