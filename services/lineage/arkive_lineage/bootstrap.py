"""Composition root of the lineage service: runs (commands), the graph projection (bus consumer of
collection events), queries, and the crash detector."""

from __future__ import annotations

from arkive_common import api
from arkive_common import api_lineage as al
from arkive_common.config import Settings
from arkive_common.projector import projector_runtime
from arkive_common.rpc import Method, RpcClient
from arkive_common.service import ServiceRuntime

from . import graph, queries
from .runs import CrashDetector, RunHandlers


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt: ServiceRuntime

    def methods(pool) -> dict[str, Method]:
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

        return {
            "start_run": Method(al.StartRun, runs.start),
            "heartbeat": Method(al.RunId, runs.heartbeat),
            "run_state": Method(al.RunId, runs.state),
            "finish_run": Method(al.FinishRun, runs.finish),
            "use_artifact": Method(al.UseArtifact, runs.use_artifact),
            "record_cache_key": Method(al.RecordCacheKey, runs.record_cache_key),
            "get_run": Method(al.RunId, get_run),
            "list_runs": Method(al.ListRuns, list_runs),
            "lookup_cache": Method(al.LookupCache, lookup_cache),
            "get_lineage": Method(al.GetLineage, get_lineage),
        }

    rt = projector_runtime(
        api.LINEAGE,
        settings,
        migrations=graph.MIGRATIONS,
        apply=graph.apply,
        rebuild=graph.rebuild,
        category="collection",
        methods=methods,
        relay=True,
    )
    return rt
