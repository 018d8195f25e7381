"""Composition root of the hashing/dedup service."""

from __future__ import annotations

from arkive_common import api
from arkive_common.config import Settings
from arkive_common.rpc import Method
from arkive_common.service import ServiceRuntime

from . import index


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt = ServiceRuntime(api.HASHING, settings, migrations=index.MIGRATIONS)

    async def wire() -> None:
        pool = rt.pool
        assert pool is not None

        async def ping(_: api.Empty) -> api.Pong:
            return api.Pong(service=api.HASHING)

        async def rebuild(_: api.Empty) -> api.RebuildResult:
            return api.RebuildResult(service=api.HASHING, events_replayed=await index.rebuild(pool))

        async def stat(q: api.StatBlobs) -> api.BlobInfos:
            return await index.stat(pool, q)

        async def register(c: api.RegisterBlob) -> api.Registered:
            return await index.register(pool, c)

        rt.methods.update(
            {
                api.PING: Method(api.Empty, ping),
                api.REBUILD: Method(api.Empty, rebuild),
                "stat": Method(api.StatBlobs, stat),
                "register": Method(api.RegisterBlob, register),
            }
        )

    rt.on_start.append(wire)
    return rt
