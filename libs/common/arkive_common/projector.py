"""A service whose job is to keep a projection of the event stream: one durable pull consumer
(shared by all replicas) and its reconciler, plus the ping and rebuild methods every service
answers and the dead-letter and check methods of a consuming service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from . import api
from .bus import events_wildcard
from .config import Settings
from .consumer import DeliveryPolicy, EventConsumer, Handler
from .consumer_admin import serve_consumer_admin
from .contract import Handlers
from .contracts import admin
from .reconcile import Reconciler
from .service import ServiceRuntime


def projector_runtime(
    name: str,
    settings: Settings,
    *,
    migrations: Sequence[str],
    apply: Handler,
    rebuild: Callable[[asyncpg.Pool], Awaitable[int]],
    category: str,
    methods: Callable[[asyncpg.Pool, Handlers], None] | None = None,
    relay: bool = False,
) -> ServiceRuntime:
    """`category` is the stream category consumed ("collection" for `collection-…` streams); the
    durable consumer is named after the service, as are its processed-event records."""
    # relay: a projector that also handles commands appends events, which the outbox relay publishes.
    rt = ServiceRuntime(name, settings, migrations=migrations, relay=relay)

    async def wire() -> None:
        assert rt.pool is not None and rt.js is not None
        pool = rt.pool

        async def do_ping(_: api.Empty) -> api.Pong:
            return api.Pong(service=name)

        async def do_rebuild(_: api.Empty) -> api.RebuildResult:
            return api.RebuildResult(service=name, events_replayed=await rebuild(pool))

        rt.handlers.handle(admin.ping(name), do_ping)
        rt.handlers.handle(admin.rebuild(name), do_rebuild)
        if methods is not None:
            methods(pool, rt.handlers)
        subject = events_wildcard(settings.subject_prefix).removesuffix(">") + f"{category}.>"
        consumer = EventConsumer(
            rt.js,
            pool,
            stream=settings.stream_name,
            durable=name,
            filter_subject=subject,
            handler=apply,
            policy=DeliveryPolicy.from_settings(settings),
        )
        reconciler = Reconciler(
            consumer,
            pool,
            category=category,
            margin=settings.reconcile_margin,
            interval=settings.reconcile_interval,
        )
        serve_consumer_admin(rt.handlers, pool, [reconciler])
        rt.runnables += [consumer, reconciler]

    rt.on_start.append(wire)
    return rt
