"""Retention speed on a stack of its own (`python -m benchmarks.retention_bench`).

Targets (issue "Retention"): deleting or expiring 10,000 versions and a GC over 100k blobs finish
in seconds. Set-up talks to the services over the bus (as the gateway does):
* expire: 10,000 versions in 100 collections, a max-age policy, then the retention service's plan
  and apply (which sends ingest's batched delete command), and the time until the retention and
  lineage projections have seen every deletion;
* gc: 100,000 blobs in the content index (registered through hashing as packs; no S3 objects are written
  for them, so S3 DeleteObjects calls are made but delete nothing), half referenced by 10 versions
  of 5,000 files, then a dry run and a real sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import nats

from arkive_common import api
from arkive_common import api_retention as ra
from arkive_common.contracts import ALL, HASHING, INGEST, RETENTION
from arkive_common.rpc import RpcClient
from arkive_gateway.gc import collect_garbage
from arkive_stack import Stack, StackConfig


def log(msg: str) -> None:
    print(f"[retention-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def digest(i: int, salt: str) -> str:
    return "sha256:" + hashlib.sha256(f"{salt}{i}".encode()).hexdigest()


async def until(check) -> None:
    """Polls another process's progress."""
    while True:
        if await check():
            return
        await asyncio.sleep(0.05)


async def gather_limited(n: int, coros) -> list:
    limit = asyncio.Semaphore(n)

    async def one(c):
        async with limit:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def commit(rpc: RpcClient, project: str, name: str, entries: list[tuple[str, str, int]], meta=None) -> str:
    draft = await rpc.call(INGEST.create_draft, api.CreateDraft(project, name, "model"))
    for i in range(0, len(entries), 5000):
        await rpc.call(INGEST.add_files, api.AddFiles(draft.draft_id, entries[i : i + 5000]))
    done = await rpc.call(INGEST.commit_draft, api.CommitDraft(draft.draft_id, metadata=meta or {}))
    return done.version.version_id


async def bench_expire(rpc: RpcClient, conn: asyncpg.Connection, versions: int, collections: int) -> dict:
    project = "expire"
    blob = digest(0, "expire")
    await rpc.call(HASHING.register, api.RegisterBlob(blob, 1, "blobs/none"))
    started = time.monotonic()
    per = versions // collections
    await gather_limited(
        32,
        # Round-robin over collections: concurrent commits to one collection would only conflict and retry.
        (commit(rpc, project, f"c{c}", [(f"f{i}", blob, 1)]) for i in range(per) for c in range(collections)),
    )
    setup = time.monotonic() - started
    log(f"expire: {versions} versions committed in {setup:.1f} s")
    policy = ra.Policy(project=project, name="age", max_age_seconds=60)
    await rpc.call(RETENTION.put_policy, policy)
    await until(
        lambda: conn.fetchval("SELECT count(*) >= $2 FROM retention_versions WHERE project = $1", project, versions)
    )
    as_of = time.time() + 3600
    t = time.monotonic()
    plan = await rpc.call(RETENTION.plan, ra.PlanRequest(project, as_of), timeout=300)
    plan_s = time.monotonic() - t
    t = time.monotonic()
    applied = await rpc.call(RETENTION.apply, ra.PlanRequest(project, as_of))
    apply_s = time.monotonic() - t
    await until(
        lambda: conn.fetchval(
            "SELECT NOT EXISTS (SELECT 1 FROM retention_versions WHERE project = $1 AND deleted_at IS NULL)"
            " AND NOT EXISTS (SELECT 1 FROM lineage_nodes WHERE project = $1 AND deleted_at IS NULL)",
            project,
        )
    )
    settled_s = time.monotonic() - t
    return {
        "versions": versions,
        "planned": plan.total,
        "deleted": applied.deleted,
        "plan_s": round(plan_s, 3),
        "apply_s": round(apply_s, 3),
        "projections_settled_s": round(settled_s, 3),
    }


async def bench_gc(rpc: RpcClient, blobs: int, referenced_versions: int, files_per_version: int) -> dict:
    started = time.monotonic()
    digests = [digest(i, "gc") for i in range(blobs)]
    # Registered as packs of 2,000 (one event each, as UploadBlobs does), no S3 objects behind them.
    await gather_limited(
        4,
        (
            rpc.call(
                HASHING.register_pack,
                api.RegisterPack(
                    f"blobs/packs/bench-{i}", [(d, 10, 10 * j) for j, d in enumerate(digests[i : i + 2000])]
                ),
            )
            for i in range(0, len(digests), 2000)
        ),
    )
    for v in range(referenced_versions):
        chunk = digests[v * files_per_version : (v + 1) * files_per_version]
        await commit(rpc, "gc", f"v{v}", [(f"f{i}", d, 10) for i, d in enumerate(chunk)])
    log(
        f"gc: {blobs} blobs registered, {referenced_versions * files_per_version} referenced,"
        f" in {time.monotonic() - started:.1f} s"
    )
    t = time.monotonic()
    dry = await collect_garbage(rpc, ra.CollectGarbage(grace_seconds=0, dry_run=True))
    dry_s = time.monotonic() - t
    t = time.monotonic()
    real = await collect_garbage(rpc, ra.CollectGarbage(grace_seconds=0, staging=False))
    sweep_s = time.monotonic() - t
    return {
        "blobs": blobs,
        "unreferenced": dry.blobs_unreferenced,
        "deleted": real.blobs_deleted,
        "dry_run_s": round(dry_s, 3),
        "sweep_s": round(sweep_s, 3),
    }


async def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="arkive-retention-bench-"))
    stack = Stack(StackConfig.for_tests(work, services=("ingest", "hashing", "lineage", "retention")))
    await stack.start()
    os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
    try:
        nc = await nats.connect(stack.nats_url)
        rpc = RpcClient(nc, "arkive")
        conn = await asyncpg.connect(stack.database_url)
        for contract in ALL:
            while True:
                try:
                    await rpc.call(contract.ping, api.Empty(), timeout=2)
                    break
                except Exception:
                    await asyncio.sleep(0.2)
        results = {
            "expire": await bench_expire(rpc, conn, args.versions, args.collections),
            "gc": await bench_gc(rpc, args.blobs, args.referenced_versions, args.files_per_version),
        }
        for name, r in results.items():
            print(name, " ".join(f"{k}={v}" for k, v in r.items()))
        await conn.close()
        await nc.close()
    finally:
        await stack.stop()
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--versions", type=int, default=10_000)
    p.add_argument("--collections", type=int, default=100)
    p.add_argument("--blobs", type=int, default=100_000)
    p.add_argument("--referenced-versions", type=int, default=10)
    p.add_argument("--files-per-version", type=int, default=5_000)
    sys.exit(asyncio.run(main(p.parse_args())))
