"""One metadata rule for the SDK and the CLI (keys are paths, updates merge by path), ambiguous
paths refused with INVALID_ARGUMENT at once, and ingest's retry loop retrying conflicts only."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

import arkive
from arkive_common.db import create_pool
from arkive_ingest import handlers

from .rawgrpc import unique

ARKIVE = Path(sys.executable).with_name("arkive")


def cli_json(stack, *argv: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run([str(ARKIVE), *argv, "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


async def log(client: arkive.AsyncClient, tmp: Path, metadata: dict) -> arkive.ArtifactVersion:
    path = tmp / f"{unique()}.txt"
    path.write_text(path.name)
    art = arkive.Artifact("m", type="model", metadata=metadata)
    art.add_file(path)
    return await client.log_artifact(art)


async def test_sdk_and_cli_merge_by_key_path_alike(stack, tmp_path):
    project = unique("md")
    async with arkive.AsyncClient(stack.gateway_addr, project, progress=False) as client:
        v = await log(client, tmp_path, {"metrics": {"acc": 0.5, "loss": 0.9}, "run.seed": 7})
        assert v.metadata == {"metrics": {"acc": 0.5, "loss": 0.9}, "run": {"seed": 7}}  # dotted keys expanded
        v = await client.update_version(v, metadata={"metrics": {"f1": 0.6}})
        assert v.metadata["metrics"] == {"acc": 0.5, "loss": 0.9, "f1": 0.6}
        v = await client.update_version(v, metadata={"metrics.acc": 0.7}, unset=["metrics.loss"])
        assert v.metadata["metrics"] == {"acc": 0.7, "f1": 0.6}
        doc = await asyncio.to_thread(
            cli_json, stack, "meta", "set", v.version_id, 'metrics={"top5":0.99}', "run.seed=8"
        )
        assert doc["metadata"] == {"metrics": {"acc": 0.7, "f1": 0.6, "top5": 0.99}, "run": {"seed": 8}}
        doc = await asyncio.to_thread(cli_json, stack, "meta", "unset", v.version_id, "metrics.top5", "run")
        assert doc["metadata"] == {"metrics": {"acc": 0.7, "f1": 0.6}}
        found = await client.search(project, where=["metrics.acc>0.6"])  # the search index sees the paths
        assert [x.version_id for x in found] == [v.version_id]


async def test_one_path_twice_is_refused_at_once(stack, tmp_path):
    project = unique("md")
    colliding = {"metrics": {"acc": 0.5}, "metrics.acc": 0.6}
    async with arkive.AsyncClient(stack.gateway_addr, project, progress=False) as client:
        v = await log(client, tmp_path, {"metrics": {"acc": 0.1}, "owner": "ml"})
        started = time.monotonic()
        with pytest.raises(arkive.InvalidArgument, match="given twice"):
            await client.update_version(v, metadata=colliding)
        with pytest.raises(arkive.InvalidArgument, match="given twice"):
            await log(client, tmp_path, colliding)
        assert time.monotonic() - started < 5  # used to be 200 retries ("too much contention")
        with pytest.raises(arkive.FailedPrecondition, match="unset 'owner'"):
            await client.update_version(v, metadata={"owner.team": "x"})
        assert (await client.get_version(v.version_id)).metadata == {"metrics": {"acc": 0.1}, "owner": "ml"}


async def test_retrying_retries_conflicts_only(stack):
    pool = await create_pool(stack.database_url)
    table = f"t_{unique().replace('-', '_')}"
    try:
        await pool.execute(f"CREATE TABLE {table} (k int CONSTRAINT {table}_k UNIQUE)")
        await pool.execute(f"INSERT INTO {table} VALUES (1)")
        attempts = 0

        async def duplicate(conn: asyncpg.Connection) -> None:
            nonlocal attempts
            attempts += 1
            await conn.execute(f"INSERT INTO {table} VALUES (1)")

        with pytest.raises(asyncpg.UniqueViolationError):
            await handlers.retrying(pool, duplicate)
        assert attempts == 1  # not a conflict: raised, not retried 200 times

        async def conflicts_twice(conn: asyncpg.Connection) -> str:
            nonlocal attempts
            attempts += 1
            if attempts < 3:
                raise handlers.Conflict("stream moved on")
            return "done"

        attempts = 0
        assert await handlers.retrying(pool, conflicts_twice) == "done" and attempts == 3
        # Every constraint treated as a conflict exists under that name (a rename would stop retries).
        names = await pool.fetch(
            "SELECT conname AS n FROM pg_constraint UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
        assert handlers.CONFLICT_CONSTRAINTS <= {r["n"] for r in names}
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await pool.close()
