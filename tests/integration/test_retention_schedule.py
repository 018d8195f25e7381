"""Retention that fires by itself: a retention replica of our own (on the session's servers, with
ARKIVE_RETENTION_INTERVAL=0.5) applies TTLs and policies with nobody calling apply; a manual policy
is left alone; two schedulers sharing the database apply once per interval; the TTL in force and its
expiry are shown by GetVersionTtl, client.ttl and `arkive show`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from support import assert_eventually

import arkive
from arkive_common import bus
from arkive_common.db import create_pool
from arkive_common.rpc import RpcClient
from arkive_retention.commands import RetentionCommands
from arkive_retention.scheduler import RetentionScheduler
from arkive_stack import Stack, StackConfig

from .rawgrpc import unique

ARKIVE = Path(sys.executable).with_name("arkive")


async def log(client: arkive.AsyncClient, tmp: Path, name: str, n: int) -> list[arkive.ArtifactVersion]:
    out = []
    for i in range(n):
        path = tmp / f"{name}-{i}.txt"
        path.write_text(f"{client.project} {name} {i}")
        art = arkive.Artifact(name, type="dataset")
        art.add_file(path)
        out.append(await client.log_artifact(art))
    return out


async def deleted(client: arkive.AsyncClient, v: arkive.ArtifactVersion) -> bool:
    try:
        await client.get_version(v.version_id)
    except arkive.NotFound as exc:
        assert "was deleted" in str(exc)
        return True
    return False


async def test_the_schedule_applies_ttls_and_policies_but_not_manual_ones(stack, infra, tmp_path, monkeypatch):
    project = unique("sched")
    monkeypatch.setenv("ARKIVE_RETENTION_INTERVAL", "0.5")
    cfg = StackConfig.for_tests(
        tmp_path / "own",
        nats_url=infra.nats_url,
        database_url=infra.database_url,
        s3_endpoint=infra.s3_endpoint,
        services=("retention",),
    )
    async with arkive.AsyncClient(stack.gateway_addr, project, progress=False) as client, Stack(cfg):
        kept = await log(client, tmp_path, "m", 3)
        auto = await log(client, tmp_path, "a", 2)
        (ttl,) = await log(client, tmp_path, "t", 1)
        await client.put_policy("manual-m", keep_last=1, name_pattern="m", manual=True)
        await client.put_policy("auto-a", keep_last=1, name_pattern="a")
        await client.set_ttl(ttl, timedelta(seconds=1))
        # Nobody calls retention_apply: the schedule deletes the expired version and a:v0.
        await assert_eventually(lambda: deleted(client, ttl), timeout=30)
        await assert_eventually(lambda: deleted(client, auto[0]), timeout=30)
        # The same runs planned m:v0 and m:v1 (manual policy): still there, until applied by hand.
        assert [v.version for v in await client.versions("m")] == [2, 1, 0]
        assert (await client.retention_plan()).total_deletions == 2
        assert (await client.retention_apply()).deleted == 2
        assert [v.version for v in await client.versions("m")] == [2]
        assert kept[2].version_id == (await client.get_version("m")).version_id


async def test_two_schedulers_apply_once_per_interval(stack):
    pool = await create_pool(stack.database_url)
    nc = await bus.connect(stack.nats_url, "sched-test")
    before = await pool.fetchval("SELECT last_run_at FROM retention_schedule")
    try:
        commands = RetentionCommands(pool, RpcClient(nc, "arkive"))
        now = [1e12]  # far in the future of any real run, so the first call is due
        a = RetentionScheduler(pool, commands, 3600, clock=lambda: now[0])
        b = RetentionScheduler(pool, commands, 3600, clock=lambda: now[0])
        ran = await asyncio.gather(a.run_once(), b.run_once())
        assert sorted(ran) == [False, True]  # one held the lock or saw the fresh run
        now[0] += 3599
        assert await a.run_once() is False and await b.run_once() is False
        now[0] += 1
        assert await b.run_once() is True
    finally:
        # As it was: a last run in the past would make the session's retention apply every project.
        await pool.execute("UPDATE retention_schedule SET last_run_at = $1", before)
        await nc.close()
        await pool.close()


def show_json(stack, ref: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run([str(ARKIVE), "show", ref, "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


async def test_ttl_in_force_and_expiry_are_shown(stack, tmp_path):
    project = unique("ttl")
    async with arkive.AsyncClient(stack.gateway_addr, project, progress=False) as client:
        v0, v1, v2 = await log(client, tmp_path, "m", 3)
        await client.set_default_ttl(project, timedelta(days=7))
        await client.set_default_ttl(project, timedelta(days=1), type="dataset")
        await client.set_ttl(v0, timedelta(hours=2))
        await client.set_ttl(v1, None)
        own, never, typed = await client.ttl(v0), await client.ttl(v1), await client.ttl(v2)
        assert (own.ttl, own.source, own.expires_at) == (timedelta(hours=2), "version", v0.created_at + own.ttl)
        assert (never.ttl, never.source, never.expires_at) == (None, "version", None)
        assert (typed.ttl, typed.source) == (timedelta(days=1), "type default")
        await client.set_default_ttl(project, None, type="dataset")
        assert (await client.ttl(v2)).source == "project default"
    doc = await asyncio.to_thread(show_json, stack, f"{project}/m:v0")
    assert doc["ttl"] == {"ttl_seconds": 7200, "source": "version", "expires_at": own.expires_at.isoformat()}
