"""Acceptance test of distributed drafts at scale, on a stack with 2 replicas of every service.

16 worker processes x 200 files each (plus 4 paths every worker sends with identical content)
upsert concurrently into one distributed id through the public SDK; some send duplicates, some
split their files into overlapping upserts, some go through a channel that loses answers and
refuses calls (the SDK retries). Mid-run one ingest replica is SIGKILLed while it holds upserts in
flight. One finish must then yield one version with exactly 16 x 200 + 4 entries, each path once,
every file byte-identical to what its worker sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import nats
import psutil
import pytest_asyncio
from support import scratch_dir

import arkive
from arkive_stack import SERVICES, ManagedProcess, Stack, StackConfig

WORKERS = 16
FILES_PER_WORKER = 200
SHARED_PATHS = 4  # sent by every worker with identical content: stored once
EXPECTED_FILES = WORKERS * FILES_PER_WORKER + SHARED_PATHS  # 3,204
MODES = ("once", "twice", "split", "lossy")  # worker w runs MODES[w % 4]
WORKER_SCRIPT = Path(__file__).with_name("scale_worker.py")


# ---- the 2-replica stack -----------------------------------------------------------------------
#
# It reuses the session's servers (`infra`: PostgreSQL, NATS, SeaweedFS) instead of starting a
# second set, but not the session's services: the session `stack` fixture may be running on the
# same servers. Sharing everything would even be correct (its services would simply be a third
# replica of each), but this test must know exactly which ingest replicas exist in order to kill
# one, so it gets its own world on the shared servers:
# - a fresh database (CREATE DATABASE on infra's PostgreSQL): its own event log and read models;
# - its own NATS subject prefix and JetStream stream, or its services would answer the session
#   stack's RPCs (same queue groups) and consume its events. Stack has no option for extra service
#   environment variables, so each service runs through `env ARKIVE_SUBJECT_PREFIX=.. ARKIVE_STREAM=..`
#   (Stack's `service_commands`; env execs, so the process Stack tracks is the service itself).
#   The stream name must differ too: ensure_stream() would add its subjects to an existing stream;
# - its own S3 bucket.


def _database_url(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replicated(infra: Stack) -> AsyncIterator[Stack]:
    tag = uuid.uuid4().hex[:10]
    database, prefix, stream = f"arkive_scale_{tag}", f"scale{tag}", f"ARKIVE_SCALE_{tag.upper()}"
    admin = await asyncpg.connect(infra.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    env = [shutil.which("env") or "/usr/bin/env", f"ARKIVE_SUBJECT_PREFIX={prefix}", f"ARKIVE_STREAM={stream}"]
    commands = {name: [*env, sys.executable, "-m", f"arkive_{name}"] for name in SERVICES}
    with scratch_dir("arkive-scale-") as data:
        cfg = StackConfig.for_tests(
            data,
            replicas=2,
            nats_url=infra.nats_url,
            database_url=_database_url(infra.database_url, database),
            s3_endpoint=infra.s3_endpoint,
            s3_access_key=infra.env["ARKIVE_S3_ACCESS_KEY"],
            s3_secret_key=infra.env["ARKIVE_S3_SECRET_KEY"],
            s3_bucket=f"arkive-scale-{tag}",
            api_key=os.environ["ARKIVE_API_KEY"],  # the session's admin token, bootstrapped by 2 replicas
        )
        stack = Stack(cfg, service_commands=commands)
        await stack.start()
        try:
            yield stack
        finally:
            await stack.stop()
            await _drop(infra, database, stream)


async def _drop(infra: Stack, database: str, stream: str) -> None:
    with contextlib.suppress(Exception):
        admin = await asyncpg.connect(infra.database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
    with contextlib.suppress(Exception):
        nc = await nats.connect(infra.nats_url)
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()


# ---- data --------------------------------------------------------------------------------------


def make_worker_files(root: Path, worker: int) -> dict[str, bytes]:
    """200 own files (1-4 KiB, seeded) plus the shared paths; the last own file has the same bytes
    in every worker (one blob behind 16 paths). Returns {artifact path: bytes}."""
    files: dict[str, bytes] = {}
    for i in range(FILES_PER_WORKER):
        rng = random.Random(f"scale {worker} {i}")
        data = rng.randbytes(rng.randint(1024, 4096))
        if i == FILES_PER_WORKER - 1:
            data = b"same bytes in every worker\n" * 100
        files[f"w{worker:02d}/f{i:03d}.bin"] = data
    for j in range(SHARED_PATHS):
        files[f"shared/s{j}.bin"] = random.Random(f"shared {j}").randbytes(2048)
    for path, data in files.items():
        dest = root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return files


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---- killing an ingest replica while it holds upserts in flight -------------------------------


async def _blocked_backends(conn: asyncpg.Connection, database: str) -> set[int]:
    """Client ports of the backends of `database` waiting for a row lock (not the event log's
    advisory append lock)."""
    rows = await conn.fetch(
        "SELECT client_port FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        " AND wait_event <> 'advisory'",
        database,
    )
    return {r["client_port"] for r in rows if r["client_port"] is not None}


def _local_ports(proc: ManagedProcess) -> set[int]:
    assert proc.pid is not None
    try:
        return {c.laddr.port for c in psutil.Process(proc.pid).net_connections(kind="tcp") if c.laddr}
    except psutil.Error:
        return set()


async def kill_ingest_mid_upsert(stack: Stack, project: str, name: str, distributed_id: str) -> dict[str, Any]:
    """Holds the draft's row lock so that upserts pile up inside both ingest replicas (each waiting
    in PostgreSQL, the request taken off the bus, no answer sent), SIGKILLs ingest-1 once it holds
    at least one of them, then lets go. What ingest-1 held is lost with it: the gateway's bus
    layer sends it again after 5 s without an answer (INGEST.upsert_files has resend=True), now to ingest-2,
    so the workers never see the loss.

    This reads ingest's table `ingest_drafts`, the one place the test knows the service's schema:
    it makes the kill land mid-request on every run instead of by luck."""
    victim = next(p for p in stack.services if p.name == "ingest-1")
    survivor = next(p for p in stack.services if p.name == "ingest-2")
    database = stack.database_url.rpartition("/")[2]
    conn = await asyncpg.connect(stack.database_url)
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT draft_id FROM ingest_drafts WHERE project = $1 AND name = $2 AND distributed_id = $3"
                " AND committed_version_id = '' AND NOT aborted FOR UPDATE",
                project,
                name,
                distributed_id,
            )
            assert row is not None, "the draft should be open"
            t0 = time.monotonic()
            deadline = t0 + 120  # upserts arrive throughout the upload phase
            while True:
                blocked = await _blocked_backends(conn, database)
                in_victim = blocked & _local_ports(victim)
                in_survivor = blocked & _local_ports(survivor)
                if in_victim and in_survivor:
                    break
                assert time.monotonic() < deadline, f"upserts never piled up in both replicas ({len(blocked)} blocked)"
                await asyncio.sleep(0.02)
            os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
            while victim.returncode is None:
                assert time.monotonic() < deadline + 10, "ingest-1 survived SIGKILL"
                await asyncio.sleep(0.01)
        # Leaving the transaction releases the lock: the survivor's upserts proceed.
    finally:
        await conn.close()
    return {
        "blocked_in_victim": len(in_victim),
        "blocked_in_survivor": len(in_survivor),
        "lock_held_s": round(time.monotonic() - t0, 2),
    }


# ---- the test ------------------------------------------------------------------------------------


async def test_16_workers_3200_files_two_replicas_one_ingest_killed(replicated: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    project, name, did = "scale" + uuid.uuid4().hex[:8], "shards", "scale-run-1"
    expected: dict[str, bytes] = {}
    for w in range(WORKERS):
        expected.update(make_worker_files(tmp_path / "src" / f"w{w:02d}", w))
    assert len(expected) == EXPECTED_FILES == 3204

    signals = tmp_path / "signals"
    signals.mkdir()
    go = signals / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}

    def worker_args(w: int) -> list[str]:
        return [
            str(WORKER_SCRIPT),
            *("--address", replicated.gateway_addr, "--project", project, "--name", name, "--distributed-id", did),
            *("--src", str(tmp_path / "src" / f"w{w:02d}"), "--mode", MODES[w % 4], "--worker", str(w)),
            *("--ready", str(signals / f"ready-{w}"), "--go", str(go)),
        ]

    pipe = asyncio.subprocess.PIPE
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, *worker_args(w), stdout=pipe, stderr=pipe, env=env)
        for w in range(WORKERS)
    ]
    try:
        outputs = asyncio.gather(*(p.communicate() for p in workers))
        async with arkive.AsyncClient(replicated.gateway_addr, project=project, progress=False) as client:
            deadline = time.monotonic() + 60
            while len(list(signals.glob("ready-*"))) < WORKERS:
                assert time.monotonic() < deadline, "workers did not start"
                assert all(p.returncode is None for p in workers), "a worker died before the start signal"
                await asyncio.sleep(0.05)
            go.touch()  # all at once
            while not await client.drafts():  # the first upsert opened the draft
                # 16 workers hash and upload 3,200 files on 2 cores before the first upsert: in a full CI
                # run that took more than a minute once
                assert time.monotonic() < deadline + 180, "no upsert landed"
                await asyncio.sleep(0.02)
            kill = await kill_ingest_mid_upsert(replicated, project, name, did)
            results = await asyncio.wait_for(outputs, timeout=240)  # ~60 s on 2 loaded CPUs
            upserted = time.monotonic()

            docs = []
            for w, (p, (out, err)) in enumerate(zip(workers, results, strict=True)):
                assert p.returncode == 0, f"worker {w} failed: {err.decode(errors='replace')[-2000:]}"
                docs.append(json.loads(out))
            assert len({r["draft_id"] for d in docs for r in d["results"]}) == 1, "every upsert hit one draft"
            assert [d["injected"] for d in docs if d["mode"] == "lossy"] == [3] * (WORKERS // 4)
            # What ingest-1 held when it died was sent again by the gateway's bus layer: no worker
            # saw it time out (before the re-send, each came back as DEADLINE_EXCEEDED after 30 s).
            assert kill["blocked_in_victim"] >= 1
            lost = sum(d["upsert_answers"].get("DEADLINE_EXCEEDED", 0) for d in docs)
            assert lost == 0

            (draft,) = await client.drafts()
            assert draft.file_count == EXPECTED_FILES and draft.distributed_id == did

            t_finish = time.monotonic()
            version = await client.finish_artifact(name, distributed_id=did, metadata={"workers": WORKERS})
            finished = time.monotonic()
            assert version.created and version.version == 0
            assert version.file_count == EXPECTED_FILES
            assert version.total_size == sum(len(b) for b in expected.values())
            again = await client.finish_artifact(name, distributed_id=did)
            assert not again.created and again.version_id == version.version_id
            assert [v.version for v in await client.versions(name)] == [0]
            assert await client.drafts() == []

            listed = [f async for f in client.files(version)]
            paths = [f.path for f in listed]
            assert len(paths) == len(set(paths)) == EXPECTED_FILES, "a path is listed twice"
            assert {f.path: (f.digest, f.size) for f in listed} == {p: (digest(b), len(b)) for p, b in expected.items()}
            t_download = time.monotonic()
            out = await version.download(tmp_path / "restored")
            downloaded = time.monotonic()
            restored = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
            assert restored == expected
    finally:
        for p in workers:
            if p.returncode is None:
                p.kill()
                await p.wait()

    ingest = [p for p in replicated.services if p.name.startswith("ingest-")]
    assert [p.returncode for p in ingest] == [-signal.SIGKILL, None]  # the survivor did the rest
    timings = {
        "kill": kill,
        "upsert_phase_s": round(upserted - started, 1),
        "finish_s": round(finished - t_finish, 1),
        "download_s": round(downloaded - t_download, 1),
        "total_s": round(time.monotonic() - started, 1),
        "slowest_worker_s": max(d["seconds"] for d in docs),
        "upserts_lost_with_ingest_1": lost,
    }
    print(f"scale test: {json.dumps(timings)}")
