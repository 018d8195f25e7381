"""The gateway checks that a run is running before it asks ingest to commit a version logged by it:
lineage owns runs, ingest owns versions, and neither service calls the other for this (the bus'
call graph stays acyclic: docs/architecture.md). Like the check ingest made before, it is not
atomic with the commit: a run that finishes in between still gets the version."""

from __future__ import annotations

from arkive_core.errors import FailedPrecondition

from arkive_common import api_lineage as al
from arkive_common.contracts import LINEAGE
from arkive_common.rpc import RpcClient


async def check_run(rpc: RpcClient, run_id: str) -> None:
    """A version can be logged by a run only while the run is running ("" = no run)."""
    if not run_id:
        return
    state = await rpc.call(LINEAGE.run_state, al.RunId(run_id))
    if state.state != "running":
        raise FailedPrecondition(f"run {run_id} is {state.state}; only a running run can log artifacts")
