"""Composition root of the retention service: the projection (bus consumer of collection events)
plus its commands (TTLs, policies, plan/apply), which append events and call ingest."""

from __future__ import annotations

from arkive_common.config import Settings
from arkive_common.contract import Handlers
from arkive_common.contracts import RETENTION
from arkive_common.projector import projector_runtime
from arkive_common.rpc import RpcClient
from arkive_common.service import ServiceRuntime

from . import catalog
from .commands import RetentionCommands
from .scheduler import RetentionScheduler, retention_interval


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt: ServiceRuntime

    def methods(pool, handlers: Handlers) -> None:
        assert rt.nc is not None
        commands = RetentionCommands(pool, RpcClient(rt.nc, settings.subject_prefix))
        handlers.handle(RETENTION.set_version_ttl, commands.set_version_ttl)
        handlers.handle(RETENTION.set_default_ttl, commands.set_default_ttl)
        handlers.handle(RETENTION.put_policy, commands.put_policy)
        handlers.handle(RETENTION.remove_policy, commands.remove_policy)
        handlers.handle(RETENTION.list_policies, commands.list_policies)
        handlers.handle(RETENTION.plan, commands.plan_reply)
        handlers.handle(RETENTION.apply, commands.apply)
        handlers.handle(RETENTION.get_version_ttl, commands.version_ttl)

    async def schedule() -> None:
        assert rt.pool is not None and rt.nc is not None
        interval = retention_interval()
        if interval > 0:
            commands = RetentionCommands(rt.pool, RpcClient(rt.nc, settings.subject_prefix))
            rt.runnables.append(RetentionScheduler(rt.pool, commands, interval))

    rt = projector_runtime(
        RETENTION.service,
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
