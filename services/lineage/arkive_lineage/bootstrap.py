"""Composition root of the lineage service: runs (commands), the graph projection (bus consumer of
collection events), queries, and the crash detector."""

from __future__ import annotations

from arkive_common import api_lineage as al
from arkive_common.config import Settings
from arkive_common.contract import Handlers
from arkive_common.contracts import LINEAGE
from arkive_common.projector import projector_runtime
from arkive_common.rpc import RpcClient
from arkive_common.service import ServiceRuntime

from . import graph, queries
from .runs import CrashDetector, RunHandlers


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt: ServiceRuntime

    def methods(pool, handlers: Handlers) -> None:
        assert rt.nc is not None
        rpc = RpcClient(rt.nc, settings.subject_prefix)
        runs = RunHandlers(pool, rpc)
        rt.runnables.append(CrashDetector(pool))

        async def get_run(q: al.RunId) -> al.RunView:
            return await queries.get_run(pool, q.run_id)

        async def list_runs(q: al.ListRuns) -> al.RunPage:
            return await queries.list_runs(pool, q)

        async def lookup_cache(q: al.LookupCache) -> al.CacheHit:
            return await queries.lookup_cache(pool, rpc, q)

        async def get_lineage(q: al.GetLineage) -> al.LineageGraph:
            return await queries.get_lineage(pool, rpc, q)

        handlers.handle(LINEAGE.start_run, runs.start)
        handlers.handle(LINEAGE.heartbeat, runs.heartbeat)
        handlers.handle(LINEAGE.run_state, runs.state)
        handlers.handle(LINEAGE.finish_run, runs.finish)
        handlers.handle(LINEAGE.use_artifact, runs.use_artifact)
        handlers.handle(LINEAGE.record_cache_key, runs.record_cache_key)
        handlers.handle(LINEAGE.get_run, get_run)
        handlers.handle(LINEAGE.list_runs, list_runs)
        handlers.handle(LINEAGE.lookup_cache, lookup_cache)
        handlers.handle(LINEAGE.get_lineage, get_lineage)

    rt = projector_runtime(
        LINEAGE.service,
        settings,
        migrations=graph.MIGRATIONS,
        apply=graph.apply,
        rebuild=graph.rebuild,
        category="collection",
        methods=methods,
        relay=True,
    )
    return rt
