"""Composition root of the retention service: the projection (bus consumer of collection events)
plus its commands (TTLs, policies, plan/apply), which append events and call ingest."""

from __future__ import annotations

from arkive_common import api
from arkive_common.config import Settings
from arkive_common.projector import projector_runtime
from arkive_common.rpc import Method, RpcClient
from arkive_common.service import ServiceRuntime

from . import catalog
from .commands import RetentionCommands
from .scheduler import RetentionScheduler, retention_interval


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt: ServiceRuntime

    def methods(pool) -> dict[str, Method]:
        assert rt.nc is not None
        return RetentionCommands(pool, RpcClient(rt.nc, settings.subject_prefix)).methods()

    async def schedule() -> None:
        assert rt.pool is not None and rt.nc is not None
        interval = retention_interval()
        if interval > 0:
            commands = RetentionCommands(rt.pool, RpcClient(rt.nc, settings.subject_prefix))
            rt.runnables.append(RetentionScheduler(rt.pool, commands, interval))

    rt = projector_runtime(
        api.RETENTION,
        settings,
        migrations=catalog.MIGRATIONS,
        apply=catalog.apply,
        rebuild=catalog.rebuild,
        category="collection",
        methods=methods,
        relay=True,
    )
    rt.on_start.append(schedule)
    return rt
