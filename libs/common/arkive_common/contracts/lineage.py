"""The bus contract of the lineage service: runs, what they used and made, the cache of step
outputs, and the lineage graph."""

from __future__ import annotations

from .. import api
from .. import api_lineage as al
from ..contract import Contract, Rpc
from . import admin

SERVICE = "lineage"
S = SERVICE


class LineageContract(Contract):
    service = SERVICE
    calls = ("ingest",)

    ping = admin.ping(S)
    rebuild = admin.rebuild(S)
    dead_letters = admin.dead_letters(S)
    retry_dead_letter = admin.retry_dead_letter(S)
    check_consumers = admin.check_consumers(S)
    start_run = Rpc(S, "start_run", al.StartRun, al.RunView)
    heartbeat = Rpc(S, "heartbeat", al.RunId, al.RunStateReply)
    run_state = Rpc(S, "run_state", al.RunId, al.RunStateReply)
    finish_run = Rpc(S, "finish_run", al.FinishRun, al.RunView)
    use_artifact = Rpc(S, "use_artifact", al.UseArtifact, api.VersionView)
    record_cache_key = Rpc(S, "record_cache_key", al.RecordCacheKey, api.Empty)
    get_run = Rpc(S, "get_run", al.RunId, al.RunView)
    list_runs = Rpc(S, "list_runs", al.ListRuns, al.RunPage)
    lookup_cache = Rpc(S, "lookup_cache", al.LookupCache, al.CacheHit)
    get_lineage = Rpc(S, "get_lineage", al.GetLineage, al.LineageGraph)


LINEAGE = LineageContract()
