"""Garbage collection, run here in steps so that no service calls another in a cycle: hashing owns
blobs and never asks ingest; ingest owns references and answers "referenced?" (docs/architecture.md,
"Bus call graph"). For each page of candidates: hashing flushes their blob locks (every add that
held them has committed), ingest names the referenced ones, hashing sweeps the rest under the locks
again, keeping any leased since the cutoff (arkive_hashing/gc.py says why nothing referenced is lost).
"""

from __future__ import annotations

import time

from arkive_common import api_gc as ag
from arkive_common import api_retention as ra
from arkive_common.contracts import HASHING, INGEST
from arkive_common.rpc import RpcClient


async def collect_garbage(rpc: RpcClient, req: ra.CollectGarbage, step_timeout: float | None = None) -> ra.GcResult:
    """One GC run. `step_timeout` bounds each step that is not resent (begin, flush, sweep; the
    contracts' bounds by default): a hashing replica killed mid-step is never answered."""
    started_at = time.monotonic()
    started = await rpc.call(HASHING.gc_begin, req, timeout=step_timeout)
    unreferenced = deleted = freed = 0
    after = ""
    while True:
        page = await rpc.call(
            HASHING.gc_candidates, ag.GcCandidates(started.cutoff, after, req.batch_size, req.digests)
        )
        if page.digests:
            if not req.dry_run:  # the flush must come before ingest's answer (see the module doc)
                await rpc.call(HASHING.gc_flush, ag.GcFlush(page.digests), timeout=step_timeout)
            referenced = set((await rpc.call(INGEST.referenced, ra.Digests(page.digests))).digests)
            unref = [(d, s) for d, s in zip(page.digests, page.sizes, strict=True) if d not in referenced]
            unreferenced += len(unref)
            if req.dry_run:
                freed += sum(s for _, s in unref)
            elif unref:
                sweep = ag.GcSweep(started.sweep_id, started.cutoff, [d for d, _ in unref])
                swept = await rpc.call(HASHING.gc_sweep, sweep, timeout=step_timeout)
                deleted += swept.deleted
                freed += swept.bytes_freed
        if not page.next_after:
            break
        after = page.next_after
    finish = ag.GcFinish(req, started, unreferenced, deleted, freed, time.monotonic() - started_at)
    return await rpc.call(HASHING.gc_finish, finish)
