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
from http.client import HTTPConnection
from pathlib import Path

import asyncpg
import psutil
import pytest
import pytest_asyncio
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from support import assert_eventually, scratch_dir

import arkive
from arkive_stack import Stack, StackConfig

pytestmark = pytest.mark.slow

SERVICE_RECOVERY = 5.0  # seconds within which a log must succeed after a service was killed
SERVER_RECOVERY = 15.0  # the same after a server (nats-server, PostgreSQL, SeaweedFS) was killed
# Both targets hold for a machine that gets the services of a fresh stack serving within
# NOMINAL_START s. A restart is the same work (a fresh Python process, SeaweedFS' master election
# and volume heartbeat), so on a slower (shared, loaded) machine the limits grow in proportion to
# what start() measured there, with half as much again for the load changing meanwhile (on the
# shared 2-core test machine one gateway restart took longer than the whole start had).
NOMINAL_START = 5.0


@dataclass
class Running:
    stack: Stack
    files: Path
    lines: list[str]
    logged: dict[str, bytes] = field(default_factory=dict)
    """version id -> the content logged in it."""
    recovery: dict[str, float] = field(default_factory=dict)
    services_started_in: float = 0.0
    """Seconds start() waited for the gateway to serve (from the spawn of the services)."""

    def limit(self, target: float) -> float:
        return target * max(1.0, 1.5 * self.services_started_in / NOMINAL_START)


@pytest_asyncio.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory, admin_token: str) -> AsyncIterator[Running]:
    lines: list[str] = []
    with scratch_dir("arkive-supervised-") as data:
        # its own servers: the session's admin token is bootstrapped there too, so the SDK's works
        stack = Stack(StackConfig.for_tests(data, api_key=admin_token), log=lines.append)
        await stack.start()
        task = asyncio.create_task(stack.run(handle_signals=False))
        state = Running(stack, tmp_path_factory.mktemp("files"), lines)
        serving = next(line for line in lines if line.startswith("gateway serving at"))
        state.services_started_in = float(serving.rsplit("(", 1)[1].removesuffix(" s)"))
        try:
            yield state
        finally:
            stack.request_stop()
            await asyncio.wait_for(task, 60)
            print(f"\nservices ready {state.services_started_in:.1f} s after their start", end="; ")
            limits = state.limit(SERVICE_RECOVERY), state.limit(SERVER_RECOVERY)
            print("limits {:.1f} s (services), {:.1f} s (servers)".format(*limits))
            print("recovery (SIGKILL -> next log succeeds):")
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


async def listening_sessions(r: Running) -> int:
    """Sessions that LISTEN for outbox notifications (one per outbox relay)."""
    conn = await asyncpg.connect(r.stack.database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"))
    finally:
        await conn.close()


async def kill_and_recover(r: Running, name: str, target: float) -> None:
    stack, within = r.stack, r.limit(target)
    if not r.logged:
        await log_once(r, "first", timeout=30)
    listeners = await listening_sessions(r)
    assert listeners >= 2  # ingest's and hashing's relays
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

    # the relays LISTEN again (after a PostgreSQL restart: on new sessions), no relay is left polling
    async def relays_listen() -> None:
        assert await listening_sessions(r) == listeners

    await assert_eventually(relays_listen, timeout=10)
    assert {p.name: (p.pid, p.restarts) for p in stack.processes if p is not victim} == others
    assert took <= r.recovery[name]


@pytest.mark.parametrize("name", ["gateway", "ingest", "hashing", "lineage", "retention"])
async def test_a_killed_service_is_restarted(running: Running, name: str) -> None:
    await kill_and_recover(running, name, SERVICE_RECOVERY)


@pytest.mark.parametrize("name", ["nats", "postgres", "seaweedfs"])
async def test_a_killed_server_is_restarted_and_services_reconnect(running: Running, name: str) -> None:
    await kill_and_recover(running, name, SERVER_RECOVERY)


async def test_nats_runs_from_its_config_file_with_synced_jetstream(running: Running) -> None:
    stack = running.stack
    nats_proc = stack.servers["nats"]
    conf = stack.config.data_dir / "nats" / "nats-server.conf"
    assert nats_proc.argv[-2:] == ["-c", str(conf)]
    text = conf.read_text()
    port = int(stack.nats_url.rsplit(":", 1)[1])
    assert f'listen: "127.0.0.1:{port}"' in text and "sync_interval: always" in text
    assert f'store_dir: "{stack.config.data_dir / "nats"}"' in text
    assert nats_proc.pid is not None
    listening = [
        c.laddr for c in psutil.Process(nats_proc.pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN
    ]
    assert listening == [("127.0.0.1", port)]


def s3_client(stack: Stack, secret: str):  # type: ignore[no-untyped-def]
    env = stack.env
    return get_session().create_client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        aws_access_key_id=env["ARKIVE_S3_ACCESS_KEY"],
        aws_secret_access_key=secret,
        region_name=env["ARKIVE_S3_REGION"],
        config=AioConfig(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


async def test_s3_refuses_unsigned_and_missigned_requests(running: Running) -> None:
    stack, env = running.stack, running.stack.env
    bucket, secret = env["ARKIVE_S3_BUCKET"], env["ARKIVE_S3_SECRET_KEY"]
    identity = stack.config.data_dir / "seaweedfs" / "s3-identity.json"
    assert identity.stat().st_mode & 0o777 == 0o600
    assert env["ARKIVE_S3_ACCESS_KEY"] != "arkive" and len(secret) >= 32  # generated, not the old defaults
    host, port = stack.s3_endpoint.removeprefix("http://").rsplit(":", 1)
    http = HTTPConnection(host, int(port), timeout=10)
    await asyncio.to_thread(http.request, "PUT", f"/{bucket}/anonymous.bin", body=b"x")
    assert (await asyncio.to_thread(http.getresponse)).status == 403
    http.close()
    async with s3_client(stack, secret + "-wrong") as s3:
        with pytest.raises(ClientError) as refused:
            await s3.put_object(Bucket=bucket, Key="missigned.bin", Body=b"x")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    async with s3_client(stack, secret) as s3:
        await s3.put_object(Bucket=bucket, Key="signed.bin", Body=b"x")
        with pytest.raises(ClientError):
            await s3.head_object(Bucket=bucket, Key="missigned.bin")
    await log_once(running, "s3-identity", timeout=30)  # the services hold the right keys
    weed_cmd = stack.servers["seaweedfs"].argv
    assert f"-s3.config={identity}" in weed_cmd
    leaks = [f.name for f in stack.config.logs.glob("*.log") if secret in f.read_text(errors="replace")]
    assert not leaks
    assert not [line for line in [*running.lines, *stack.status_lines()] if secret in line]
