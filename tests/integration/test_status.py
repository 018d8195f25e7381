"""`arkive status` (AdminService.GetStatus): every process of the deployment answers with its
readiness, version, uptime, outbox lag and its consumers' lag and dead letters."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

import arkive
from arkive_common import deadletters

SERVICES = {"gateway", "ingest", "hashing", "lineage", "retention"}  # the web dashboard is not on the bus
ARKIVE = Path(sys.executable).with_name("arkive")


def cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ARKIVE, *argv], capture_output=True, text=True, env=env, timeout=60)


async def test_every_process_answers_with_readiness_and_its_consumers(stack):
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        answers = await client.status(wait=1.0)
    # Other tests' deployments may share the session's bus (an extra gateway of the TLS tests, say):
    # the session stack's own processes are those with its pids, one replica of each service.
    pids = {p.pid for p in stack.processes if p.pid is not None}
    processes = [p for p in answers if int(p.instance.rsplit(":", 1)[1]) in pids]
    assert sorted(p.service for p in processes) == sorted(SERVICES), answers
    for p in processes:
        assert p.ready and p.version and p.uptime_seconds > 0, p
        assert p.outbox_pending >= 0 and p.outbox_oldest_age_seconds >= 0
    consumers = {p.service: {c.consumer for c in p.consumers} for p in processes}
    assert "lineage" in consumers["lineage"] and "retention" in consumers["retention"], consumers
    assert not consumers["gateway"] and not consumers["ingest"]


async def test_dead_letters_show_up_per_consumer(stack):
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
    failure = deadletters.Failure("lineage", "x.events.test.Nothing", None, b"\x00", str(uuid.uuid4()), "status test")
    letter = await deadletters.park(pool, failure, 5)
    try:
        async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:

            async def dead() -> int:
                (lineage,) = [p for p in await client.status() if p.service == "lineage"]
                return {c.consumer: c.dead_letters for c in lineage.consumers}["lineage"]

            expected = await pool.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = 'lineage'")
            for _ in range(20):  # the gauge is sampled every second (ARKIVE_METRICS_INTERVAL in conftest)
                if await dead() == expected:
                    break
            assert await dead() == expected >= 1
            # the CLI says the same, and fails while dead letters wait
            env = os.environ | {"ARKIVE_GATEWAY_ADDR": stack.gateway_addr, "COLUMNS": "200"}
            done = await asyncio.to_thread(cli, env, "status", "--json")
            doc = json.loads(done.stdout)
            assert done.returncode == 1 and doc["ok"] is False, done.stderr
            assert {p["service"] for p in doc["processes"]} == SERVICES
            table = await asyncio.to_thread(cli, env, "status")
            assert "lineage" in table.stdout and "retention" in table.stdout, table.stderr
    finally:
        await deadletters.remove(pool, letter)
        await pool.close()


async def test_wait_is_checked(stack):
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        with pytest.raises(arkive.InvalidArgument):
            await client.status(wait=60)
