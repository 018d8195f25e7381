"""Search speed on 1M versions (`python -m benchmarks.search_bench`).

Target (issue 7, "fast on 1M versions"): typical searches answer a page in well under 100 ms.
Versions are written straight into ingest's tables (COPY) in a database of their own, all in one
project (the worst case for project-scoped queries): 10,000 collections of 100 versions, half
datasets, 40 % models with accuracy/framework/f1 metadata, 10 % plots; tags, aliases, producer
runs and 2 % deleted versions. The numeric metadata index is filled by the same SQL the migration
and the live path use. The timed call is ingest's own search function (no RPC hop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from arkive_common import api_catalog as ac
from arkive_common import db
from arkive_ingest import catalog_model, projection, search
from arkive_stack import Stack, StackConfig

PROJECT = "bench"
COLUMNS = [
    "version_id", "project", "name", "version", "type", "manifest_digest", "file_count", "total_size",
    "metadata", "description", "tags", "label", "created_at", "deleted_at", "run_id",
]  # fmt: skip
START = datetime(2025, 1, 1, tzinfo=UTC)


def generate(versions: int, seed: int) -> tuple[list[tuple], list[tuple], list[str]]:
    rng = random.Random(seed)
    per = 100
    runs = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(max(1, versions // 20))]
    rows, aliases = [], []
    for c in range(versions // per):
        kind = rng.choices(["dataset", "model", "plot"], [5, 4, 1])[0]
        name = f"{kind}-{c:05d}"
        base = START + timedelta(seconds=rng.randrange(0, 300 * 86400))
        for n in range(per):
            vid = uuid.UUID(int=rng.getrandbits(128)).hex
            if kind == "model":
                md = {
                    "accuracy": round(rng.random(), 4),
                    "framework": rng.choice(["sklearn", "torch", "xgboost"]),
                    "metrics": {"f1": round(rng.random(), 4)},
                }
            elif kind == "dataset":
                md = {"rows": rng.randrange(1, 10_000_000), "source": rng.choice(["s3", "gcs", "local"])}
            else:
                md = {"title": f"plot {n}"}
            tags = [t for t, p in (("raw", 0.3), ("clean", 0.3), ("gold", 0.05), ("prod", 0.02)) if rng.random() < p]
            created = base + timedelta(minutes=n * 30 + rng.random())
            deleted = created + timedelta(days=1) if rng.random() < 0.02 else None
            run = rng.choice(runs) if rng.random() < 0.3 else ""
            rows.append(
                (vid, PROJECT, name, n, kind, f"sha256:{vid}{vid}", 3, 1000, json.dumps(md), "", tags, "",
                 created, deleted, run)
            )  # fmt: skip
        live = [r for r in rows[-per:] if r[13] is None]
        if live:
            aliases.append((PROJECT, name, "latest", live[-1][0]))
            if rng.random() < 0.1:
                aliases.append((PROJECT, name, "production", rng.choice(live)[0]))
    return rows, aliases, runs


def queries(rng: random.Random, runs: list[str]) -> dict[str, ac.SearchVersions]:
    t = START + timedelta(days=rng.randrange(10, 290))
    lo = rng.choice([0.9, 0.95, 0.8])
    q = ac.SearchVersions
    return {
        "models accuracy>x, newest first": q(PROJECT, type="model", metadata=[ac.Predicate("accuracy", ">", lo)]),
        "models accuracy>x, best first": q(
            PROJECT, type="model", metadata=[ac.Predicate("accuracy", ">", lo)], order_by="-metadata.accuracy"
        ),
        "rare: accuracy>0.9995, newest": q(PROJECT, metadata=[ac.Predicate("accuracy", ">", 0.9995)]),
        "rare: accuracy>0.9995, worst first": q(
            PROJECT, metadata=[ac.Predicate("accuracy", ">", 0.9995)], order_by="metadata.accuracy"
        ),
        "tag prod, newest first": q(PROJECT, tags=["prod"]),
        "tags raw+clean, type dataset": q(PROJECT, type="dataset", tags=["raw", "clean"]),
        "alias production, name model-*": q(PROJECT, alias="production", name_pattern="model-*"),
        "name model-0012?, by version": q(
            PROJECT, name_pattern=f"model-{rng.randrange(100):03d}?*", order_by="version"
        ),
        "producer run": q(PROJECT, run_id=rng.choice(runs)),
        "created in one week": q(
            PROJECT, created_after=t.timestamp(), created_before=(t + timedelta(days=7)).timestamp()
        ),
        "no match: sklearn & torch (1 page)": q(
            PROJECT, metadata=[ac.Predicate("framework", "=", "sklearn"), ac.Predicate("framework", "=", "torch")]
        ),
        "framework=sklearn & f1<0.1": q(
            PROJECT, metadata=[ac.Predicate("framework", "=", "sklearn"), ac.Predicate("metrics.f1", "<", 0.1)]
        ),
    }


async def load(pool: asyncpg.Pool, rows: list[tuple], aliases: list[tuple]) -> None:
    async with pool.acquire() as conn:
        for i in range(0, len(rows), 100_000):
            await conn.copy_records_to_table("ingest_versions", records=rows[i : i + 100_000], columns=COLUMNS)
        await conn.copy_records_to_table(
            "ingest_aliases", records=aliases, columns=["project", "name", "alias", "version_id"]
        )
        await conn.execute(catalog_model._INDEX_METRICS.replace("{where}", ""))
        await conn.execute("VACUUM ANALYZE")


async def main(versions: int, repeats: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="arkive-search-bench-"))
    stack = Stack(StackConfig.for_tests(work, services=()))
    await stack.start()
    os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
    try:
        admin = await asyncpg.connect(stack.database_url)
        await admin.execute("CREATE DATABASE search_bench")
        await admin.close()
        pool = await db.create_pool(stack.database_url.rsplit("/", 1)[0] + "/search_bench")
        await db.migrate(pool, "ingest", projection.MIGRATIONS)
        started = time.perf_counter()
        rows, aliases, runs = generate(versions, seed=7)
        await load(pool, rows, aliases)
        metrics = await pool.fetchval("SELECT count(*) FROM ingest_version_metrics")
        print(f"{len(rows):,} versions ({metrics:,} metric rows) loaded in {time.perf_counter() - started:.0f} s")
        rng = random.Random(1)
        timings: dict[str, list[float]] = {}
        sizes: dict[str, list[int]] = {}
        for _ in range(repeats):
            for label, req in queries(rng, runs).items():
                t = time.perf_counter()
                page = await search.search(pool, req)
                timings.setdefault(label, []).append((time.perf_counter() - t) * 1000)
                sizes.setdefault(label, []).append(len(page.versions))
                if label.startswith("models accuracy>x, best"):  # and the next page
                    nxt = ac.SearchVersions(**{**_fields(req), "page_token": page.next_page_token})
                    t = time.perf_counter()
                    await search.search(pool, nxt)
                    timings.setdefault("  ...its second page", []).append((time.perf_counter() - t) * 1000)
        print(f"{'query (page of 50)':36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  rows")
        for label, ts in timings.items():
            ts.sort()
            p95 = ts[max(0, int(len(ts) * 0.95) - 1)]
            n = int(statistics.median(sizes.get(label, [50])))
            print(f"{label:36} {statistics.median(ts):8.1f} {p95:8.1f} {ts[-1]:8.1f}  {n}")
        await pool.close()
    finally:
        await stack.stop()
    return 0


def _fields(req: ac.SearchVersions) -> dict:
    return {f: getattr(req, f) for f in req.__struct_fields__}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.versions, args.repeats)))
