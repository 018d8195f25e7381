"""Lineage query speed on a generated graph of 100k nodes (`python -m benchmarks.lineage_bench`).

Target (issue "Runs and lineage"): an upstream/downstream query of depth 10 answers in <= 50 ms.
The graph is written straight into the lineage service's tables (COPY) in a database of its own,
shaped like pipelines: each run uses one to three earlier versions and logs one version. The timed
call is the lineage service's own query function (graph store + traversal, no RPC hop), from a run
node, so it needs no other service.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from arkive_common import api_lineage as al
from arkive_common import db
from arkive_lineage import graph, queries
from arkive_stack import Stack, StackConfig


def generate(nodes: int, seed: int) -> tuple[list[tuple], list[tuple], list[tuple], list[str]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    versions: list[str] = []
    node_rows, run_rows, edge_rows, run_ids = [], [], [], []
    for i in range(nodes // 2):
        run_id, version_id = uuid.UUID(int=rng.getrandbits(128)).hex, uuid.UUID(int=rng.getrandbits(128)).hex
        node_rows.append((run_id, "run", "bench", f"run-{i}", None, "train", now))
        run_rows.append((run_id, "bench", f"run-{i}", "train", "", "{}", "finished", now, now, 300, now))
        for used in (
            {versions[rng.randrange(max(0, len(versions) - 2000), len(versions))] for _ in range(3)} if versions else ()
        ):
            edge_rows.append((used, run_id, "used", now))
        node_rows.append((version_id, "version", "bench", f"ds-{i % 500}", i // 500, "dataset", now))
        edge_rows.append((run_id, version_id, "logged", now))
        versions.append(version_id)
        run_ids.append(run_id)
    return node_rows, run_rows, edge_rows, run_ids


async def main(nodes: int, queries_n: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="arkive-lineage-bench-"))
    stack = Stack(StackConfig.for_tests(work, services=()))
    await stack.start()
    os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
    try:
        admin = await asyncpg.connect(stack.database_url)
        await admin.execute("CREATE DATABASE lineage_bench")
        await admin.close()
        pool = await db.create_pool(stack.database_url.rsplit("/", 1)[0] + "/lineage_bench")
        await db.migrate(pool, "lineage", graph.MIGRATIONS)
        node_rows, run_rows, edge_rows, run_ids = generate(nodes, seed=7)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "lineage_nodes",
                records=node_rows,
                columns=["node_id", "kind", "project", "name", "version", "type", "created_at"],
            )
            await conn.copy_records_to_table(
                "lineage_runs",
                records=run_rows,
                columns=[
                    "run_id",
                    "project",
                    "name",
                    "job_type",
                    "run_group",
                    "config",
                    "state",
                    "started_at",
                    "finished_at",
                    "heartbeat_timeout",
                    "last_heartbeat",
                ],
            )
            await conn.copy_records_to_table(
                "lineage_edges", records=edge_rows, columns=["source", "target", "kind", "created_at"]
            )
            await conn.execute("ANALYZE")
        print(f"graph: {len(node_rows)} nodes, {len(edge_rows)} edges, loaded in {time.perf_counter() - started:.1f} s")
        rng = random.Random(1)
        for direction in ("up", "down"):
            timings, sizes = [], []
            for _ in range(queries_n):
                # Upstream from late runs and downstream from early ones: the deep directions.
                pick = (
                    run_ids[rng.randrange(len(run_ids) // 2, len(run_ids))]
                    if direction == "up"
                    else run_ids[rng.randrange(0, len(run_ids) // 2)]
                )
                t = time.perf_counter()
                g = await queries.get_lineage(
                    pool, None, al.GetLineage(ref=f"run:{pick}", direction=direction, depth=10, limit=10_000)
                )
                timings.append((time.perf_counter() - t) * 1000)
                sizes.append(len(g.nodes))
            timings.sort()
            p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95) - 1]
            verdict = "PASS" if p95 <= 50 else "MISS"
            print(
                f"depth-10 {direction:>4}stream: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {timings[-1]:6.1f} ms"
                f"  nodes returned median {int(statistics.median(sizes))} max {max(sizes)}"
                f"  target p95 <= 50 ms: {verdict} (ratio {p95 / 50:.2f})"
            )
        await pool.close()
    finally:
        await stack.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.nodes, args.queries)))
