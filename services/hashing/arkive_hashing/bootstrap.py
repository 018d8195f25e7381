"""Composition root of the hashing/dedup service."""

from __future__ import annotations

from arkive_core.errors import InvalidArgument

from arkive_common import api, db
from arkive_common import api_scrub as sc
from arkive_common.blobstore import BlobStore
from arkive_common.config import Settings
from arkive_common.consumer import DeliveryPolicy
from arkive_common.consumer_admin import serve_consumer_admin
from arkive_common.contracts import HASHING
from arkive_common.reconcile import Reconciler
from arkive_common.service import ServiceRuntime

from . import chunks, index, repack, scrub, stats
from .chunker import ChunkIndexer
from .gc import Collector, min_grace


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt = ServiceRuntime(HASHING.service, settings, migrations=index.MIGRATIONS)

    gc_min_grace = min_grace()  # a bad setting stops the start, not the first sweep

    async def wire() -> None:
        pool = rt.pool
        assert pool is not None
        await db.migrate(pool, stats.COMPONENT, stats.MIGRATIONS)  # own components: merges stay easy
        await db.migrate(pool, repack.COMPONENT, repack.MIGRATIONS)

        async def ping(_: api.Empty) -> api.Pong:
            return api.Pong(service=HASHING.service)

        async def rebuild(_: api.Empty) -> api.RebuildResult:
            return api.RebuildResult(service=HASHING.service, events_replayed=await index.rebuild(pool))

        async def stat(q: api.StatBlobs) -> api.BlobInfos:
            return await index.stat(pool, q)

        async def register_pack(c: api.RegisterPack) -> api.PackRegistered:
            return await index.register_pack(pool, c)

        async def register(c: api.RegisterBlob) -> api.Registered:
            return await index.register(pool, c)

        async def register_object(c: api.RegisterBlob) -> api.Registered:
            # register (gateway): a digest indexed at an object its owner put in arkive's bucket,
            # which GC never deletes; blobs/ keys are arkive's own and only uploads index them.
            if c.key.startswith("blobs/") or not c.key:
                raise InvalidArgument(f"cannot register an object at {c.key!r}")
            return await index.register(pool, c)

        async def lease(q: api.StatBlobs) -> api.BlobInfos:
            return await index.lease(pool, q)

        async def compose(c: api.ComposeBlob) -> api.Composed:
            return await chunks.compose(pool, c)

        async def recipe(q: api.RecipeQuery) -> api.RecipePage:
            return await chunks.recipe(pool, q)

        async def count_received(c: api.CountReceived) -> api.Empty:
            return await stats.count_received(pool, c)

        async def blob_stats(_: api.Empty) -> api.BlobStats:
            return await stats.blob_stats(pool)

        # The chunk index (chunker.py) and scrubs read stored objects: one S3 client for the service's life.
        s = settings
        store = await BlobStore(s.s3_endpoint, s.s3_access_key, s.s3_secret_key, s.s3_bucket, s.s3_region).__aenter__()

        async def scrub_page(q: sc.ScrubPage) -> sc.ScrubReport:
            return await scrub.scrub(pool, store, q)

        async def verify_blobs(q: sc.VerifyBlobs) -> sc.ScrubReport:
            return await scrub.verify(pool, store, q)

        handle = rt.handlers.handle
        handle(HASHING.ping, ping)
        handle(HASHING.rebuild, rebuild)
        handle(HASHING.stat, stat)
        handle(HASHING.register, register)
        handle(HASHING.register_pack, register_pack)
        handle(HASHING.register_object, register_object)
        handle(HASHING.lease, lease)
        handle(HASHING.compose, compose)
        handle(HASHING.recipe, recipe)
        collector = Collector(pool, store, gc_min_grace)
        handle(HASHING.gc_begin, collector.begin)
        handle(HASHING.gc_candidates, collector.candidates)
        handle(HASHING.gc_flush, collector.flush)
        handle(HASHING.gc_sweep, collector.sweep)
        handle(HASHING.gc_finish, collector.finish)
        handle(HASHING.count_received, count_received)
        handle(HASHING.blob_stats, blob_stats)
        handle(HASHING.scrub, scrub_page)
        handle(HASHING.verify_blobs, verify_blobs)

        assert rt.js is not None
        policy = DeliveryPolicy.from_settings(s)
        chunker = ChunkIndexer(rt.js, pool, store, stream=s.stream_name, prefix=s.subject_prefix, policy=policy)
        reconciler = Reconciler(
            chunker,
            pool,
            category="blob",
            event_type="BlobStored",
            margin=s.reconcile_margin,
            interval=s.reconcile_interval,
        )
        serve_consumer_admin(rt.handlers, pool, [reconciler])  # dead letters and checks of the chunker
        rt.runnables += [chunker, reconciler]

    rt.on_start.append(wire)
    return rt
