"""The supervising launcher: a killed process comes back, the others keep running, nothing is lost.

One stack with real servers and the five real services runs for the whole module under
`Stack.run()`; each test SIGKILLs one process and measures how long until a log succeeds again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from support import assert_eventually, scratch_dir

import arkive
from arkive_stack import Stack, StackConfig

pytestmark = pytest.mark.slow

SERVICE_RECOVERY = 5.0  # seconds within which a log must succeed after a service was killed
SERVER_RECOVERY = 15.0  # the same after a server (nats-server, PostgreSQL, SeaweedFS) was killed


@dataclass
class Running:
    stack: Stack
    files: Path
    lines: list[str]
    logged: dict[str, bytes] = field(default_factory=dict)
    """version id -> the content logged in it."""
    recovery: dict[str, float] = field(default_factory=dict)


@pytest_asyncio.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    lines: list[str] = []
    with scratch_dir("arkive-supervised-") as data:
        stack = Stack(StackConfig.for_tests(data), log=lines.append)
        await stack.start()
        task = asyncio.create_task(stack.run(handle_signals=False))
        state = Running(stack, tmp_path_factory.mktemp("files"), lines)
        try:
            yield state
        finally:
            stack.request_stop()
            await asyncio.wait_for(task, 60)
            print("\nrecovery (SIGKILL -> next log succeeds):")
            for name, took in state.recovery.items():
                print(f"  {name:<10} {took:.2f} s")


async def log_once(r: Running, tag: str, timeout: float) -> str:
    """Log a new version holding 64 KiB that differ per call; returns its version id."""
    content = os.urandom(65536)
    path = r.files / f"{tag}.bin"
    path.write_bytes(content)
    art = arkive.Artifact("survivor", "dataset")
    art.add_file(path, "data.bin")
    async with arkive.AsyncClient(r.stack.gateway_addr, "supervised", timeout=timeout) as client:
        version = await client.log_artifact(art)
    r.logged[version.version_id] = content
    return version.version_id


async def log_until_ok(r: Running, tag: str, within: float) -> float:
    """Keep trying to log until one succeeds; returns the seconds since the first try."""
    started = time.monotonic()
    while True:
        try:
            await log_once(r, tag, timeout=2.0)
            return time.monotonic() - started
        except arkive.ArkiveError:
            if time.monotonic() - started > within:
                raise
            await asyncio.sleep(0.05)


async def assert_all_there(r: Running) -> None:
    """Every version logged so far downloads with its content, and both bus consumers processed
    every VersionCommitted (the outbox relay and the JetStream consumers work again)."""
    async with arkive.AsyncClient(r.stack.gateway_addr, "supervised") as client:
        for version_id, content in r.logged.items():
            got = await client.download(version_id, r.files / "restored" / version_id)
            assert (got.path / "data.bin").read_bytes() == content
    conn = await asyncpg.connect(r.stack.database_url)
    try:

        async def consumers_caught_up() -> None:
            missing = await conn.fetch(
                "SELECT c.name, count(*) AS n FROM events e CROSS JOIN (VALUES ('lineage'), ('retention')) c(name)"
                " WHERE e.type = 'VersionCommitted' AND e.stream_id = 'collection-supervised/survivor'"
                " AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = c.name AND p.event_id = e.id)"
                " GROUP BY c.name"
            )
            assert not missing, [dict(m) for m in missing]

        await assert_eventually(consumers_caught_up, timeout=15)
    finally:
        await conn.close()


async def kill_and_recover(r: Running, name: str, within: float) -> None:
    stack = r.stack
    if not r.logged:
        await log_once(r, "first", timeout=30)
    victim = next(p for p in stack.processes if p.name == name)
    others = {p.name: (p.pid, p.restarts) for p in stack.processes if p is not victim}
    before = victim.restarts
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.monotonic()
    await victim.wait_restarts(before + 1, timeout=10)
    took = await log_until_ok(r, f"after-{name}", within)
    r.recovery[name] = time.monotonic() - killed
    assert r.recovery[name] < within, f"{name}: first successful log {r.recovery[name]:.1f} s after the kill"
    assert victim.exits[-1] == -signal.SIGKILL
    assert any(f"{name} exited with code -9 (SIGKILL); restarted in" in line for line in r.lines), r.lines
    await assert_all_there(r)
    assert {p.name: (p.pid, p.restarts) for p in stack.processes if p is not victim} == others
    assert took <= r.recovery[name]


@pytest.mark.parametrize("name", ["gateway", "ingest", "hashing", "lineage", "retention"])
async def test_a_killed_service_is_restarted(running: Running, name: str) -> None:
    await kill_and_recover(running, name, SERVICE_RECOVERY)


@pytest.mark.parametrize("name", ["nats", "postgres", "seaweedfs"])
async def test_a_killed_server_is_restarted_and_services_reconnect(running: Running, name: str) -> None:
    await kill_and_recover(running, name, SERVER_RECOVERY)
