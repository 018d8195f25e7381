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


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt: ServiceRuntime

    def methods(pool) -> dict[str, Method]:
        assert rt.nc is not None
        return RetentionCommands(pool, RpcClient(rt.nc, settings.subject_prefix)).methods()

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
    return rt
