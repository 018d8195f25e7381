"""Many replicas starting at once on an empty database (as a Kubernetes rollout does), and graceful
termination: on SIGTERM /readyz turns 503 before the process stops and exits 0.

The processes get a database, subject prefix, stream and bucket of their own (tests/isolated.py).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from httpget import http_get
from isolated import isolated_env
from support import assert_eventually

import arkive
from arkive_common import eventlog
from arkive_hashing import index, repack, stats
from arkive_ingest import projection
from arkive_lineage import graph
from arkive_retention import catalog
from arkive_stack.ports import free_port
from arkive_stack.probes import grpc_serving

SERVICES = ("ingest", "hashing", "lineage", "retention")
REPLICAS = 2
COMPONENTS = {
    "eventlog": eventlog.MIGRATIONS,
    "ingest": projection.MIGRATIONS,
    "hashing": index.MIGRATIONS,
    stats.COMPONENT: stats.MIGRATIONS,
    repack.COMPONENT: repack.MIGRATIONS,
    "lineage": graph.MIGRATIONS,
    "retention": catalog.MIGRATIONS,
}


def _spawn_all(env: dict[str, str], logs: Path) -> dict[str, tuple[subprocess.Popen[bytes], int]]:
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    taken: set[int] = set()
    for service in (*SERVICES, "gateway"):
        for i in range(1 if service == "gateway" else REPLICAS):
            port = free_port(taken)
            with open(logs / f"{service}-{i}.log", "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", f"arkive_{service}"],
                    env=env | {"ARKIVE_HEALTH_PORT": str(port)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            procs[f"{service}-{i}"] = (proc, port)
    return procs


@pytest.fixture
async def deployment(infra, tmp_path):
    """REPLICAS processes of each backend service and a gateway, all spawned at once on a fresh database."""
    async with isolated_env(infra) as env:
        env |= {"ARKIVE_DRAIN_SECONDS": "1.5", "ARKIVE_GATEWAY_ADDR": f"127.0.0.1:{free_port(set())}"}
        procs = _spawn_all(env, tmp_path)
        try:
            yield env["ARKIVE_DATABASE_URL"], env["ARKIVE_GATEWAY_ADDR"], procs, tmp_path
        finally:
            for proc, _ in procs.values():
                if proc.poll() is None:
                    proc.kill()
                proc.wait()


async def test_replicas_migrate_an_empty_database_together_and_drain_on_sigterm(deployment):
    dsn, gateway_addr, procs, logs = deployment

    async def all_ready() -> None:
        for pname, (proc, port) in procs.items():
            assert proc.poll() is None, f"{pname} exited {proc.returncode}: {(logs / f'{pname}.log').read_text()}"
            assert await http_get(port, "/readyz") == (200, "ready\n"), pname

    await assert_eventually(all_ready, timeout=60, interval=0.2, retry_on=(AssertionError, ConnectionError, OSError))

    # every process came up (none failed on a table another had just made) and every step ran once
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT component, step FROM schema_migrations ORDER BY component, step")
    finally:
        await conn.close()
    got = {(r["component"], r["step"]) for r in rows}
    assert {(c, i) for c, steps in COMPONENTS.items() for i in range(len(steps))} <= got
    for component in {c for c, _ in got}:  # no gaps: every step of every component ran, in order
        steps = sorted(i for c, i in got if c == component)
        assert steps == list(range(len(steps))), (component, steps)

    # graceful termination: readiness goes first, the process exits 0 after the drain delay
    for pname in ("ingest-0", "gateway-0"):
        proc, port = procs[pname]
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()

        async def draining(port: int = port) -> None:
            assert await http_get(port, "/readyz") == (503, "draining\n")

        await assert_eventually(draining, timeout=2)
        assert proc.poll() is None, f"{pname} must still run while readiness is false"
        assert await http_get(port, "/livez") == (200, "ok\n")
        if pname == "gateway-0":  # gRPC health follows, and calls are still served meanwhile
            assert not await grpc_serving(gateway_addr)
            async with arkive.AsyncClient(gateway_addr, progress=False) as client:
                with pytest.raises(arkive.NotFound):
                    await client.get_version("drain/missing:v0")
        rc = await asyncio.to_thread(proc.wait, 20)
        assert rc == 0, (logs / f"{pname}.log").read_text()
        assert time.monotonic() - sent >= 1.5, pname  # it waited the drain delay before stopping
    # the other replica still serves
    assert await http_get(procs["ingest-1"][1], "/readyz") == (200, "ready\n")
