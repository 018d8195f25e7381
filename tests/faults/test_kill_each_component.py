"""The fault-injection suite: writer processes log artifacts while each of ingest, hashing, the gateway,
nats-server, PostgreSQL and SeaweedFS is SIGKILLed in turn under the supervising launcher.

Afterwards: every acknowledged version is present exactly once with the right number, every file
downloads and verifies, no version exists that nobody acknowledged, every event of the log reached
every bus consumer, and the projections equal a rebuild. It prints acknowledged / lost / duplicated
/ corrupt and the recovery time per component (`make bench` runs it too and shows the table).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import pytest
from integration.test_rebuild import snapshot
from support import assert_eventually, scratch_dir

import arkive
from arkive_stack import Stack, StackConfig

pytestmark = pytest.mark.slow

COMPONENTS = ("ingest", "hashing", "gateway", "nats", "postgres", "seaweedfs")
WRITERS = 2
PROGRESS_BEFORE_KILL = 3  # acknowledged logs (all writers) between two kills
WRITER = Path(__file__).with_name("writer.py")


def read_acks(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Writers:
    def __init__(self, stack: Stack, work: Path, project: str) -> None:
        self.work, self.project = work, project
        self.stop_file = work / "stop"
        self.acks = [work / f"acks-{i}.jsonl" for i in range(WRITERS)]
        env = {**os.environ, "ARKIVE_RETRY_DEADLINE": "120"}
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(WRITER),
                    stack.gateway_addr,
                    project,
                    f"w{i}",
                    str(self.acks[i]),
                    str(self.stop_file),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(work / f"writer-{i}.err", "wb"),
            )
            for i in range(WRITERS)
        ]

    def all_acks(self) -> list[dict]:
        return [a for path in self.acks for a in read_acks(path)]

    def acknowledged(self) -> int:
        return sum(1 for a in self.all_acks() if "version_id" in a)

    async def stop(self) -> None:
        self.stop_file.touch()
        for p in self.procs:
            await asyncio.to_thread(p.wait, 180)
            assert p.returncode == 0, (self.work / "writer-0.err").read_text()[-2000:]


async def wait_for_progress(writers: Writers, at_least: int, timeout: float = 120) -> None:
    async def progressed() -> None:
        assert writers.acknowledged() >= at_least, f"{writers.acknowledged()} < {at_least}"
        for p in writers.procs:
            assert p.poll() is None, "a writer died"

    await assert_eventually(progressed, timeout=timeout, interval=0.1)


def first_ack_started_after(writers: Writers, wall: float) -> float | None:
    """Seconds from `wall` to the first acknowledgement of a log that began after it."""
    done = [a["at"] for a in writers.all_acks() if "version_id" in a and a["at"] - a["took"] >= wall]
    return min(done) - wall if done else None


async def verify(stack: Stack, writers: Writers, work: Path) -> dict[str, int]:
    counts = {"acknowledged": 0, "lost": 0, "duplicated": 0, "unacknowledged": 0, "corrupt": 0, "gave up": 0}
    async with arkive.AsyncClient(stack.gateway_addr, writers.project, progress=False) as client:
        for i, path in enumerate(writers.acks):
            lines = read_acks(path)
            acked = [a for a in lines if "version_id" in a]
            counts["gave up"] += len(lines) - len(acked)
            counts["acknowledged"] += len(acked)
            ids = [a["version_id"] for a in acked]
            counts["duplicated"] += len(ids) - len(set(ids)) + sum(1 for a in acked if not a["created"])
            listed = {v.version_id: v.version for v in await client.versions(f"w{i}")}
            counts["lost"] += len(set(ids) - set(listed))
            counts["unacknowledged"] += len(set(listed) - set(ids))
            assert sorted(listed.values()) == list(range(len(listed))), "version numbers have a gap"
            for a in acked:
                if a["version_id"] not in listed:
                    continue
                assert listed[a["version_id"]] == a["version"], "a version changed its number"
                dest = work / "restored" / a["version_id"]
                try:
                    await client.download(a["version_id"], dest)
                    got = {p.name: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for p in dest.iterdir()}
                except arkive.ArkiveError:
                    got = {}
                counts["corrupt"] += got != a["files"]
    return counts


async def consumers_caught_up(conn: asyncpg.Connection, project: str) -> None:
    missing = await conn.fetchval(
        "SELECT count(*) FROM events e CROSS JOIN (VALUES ('lineage'), ('retention')) c(name)"
        " WHERE e.stream_id LIKE $1 AND NOT EXISTS"
        " (SELECT 1 FROM processed_events p WHERE p.consumer = c.name AND p.event_id = e.id)",
        f"collection-{project}/%",
    )
    assert missing == 0, f"{missing} events not (yet) applied by a bus consumer"


def incident_reports(writers: Writers, logs: Path) -> list[str]:
    """The service-log lines around each incident id a writer was told of (an INTERNAL error)."""
    ids = {m for a in writers.all_acks() for m in re.findall(r"incident ([0-9a-f]{12})", a.get("error", ""))}
    found = []
    for log in sorted(logs.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if any(incident in line for incident in ids):
                found.append(f"{log.name}: " + "\n".join(lines[i : i + 40]))
    return found


async def test_writers_survive_a_sigkill_of_every_component(tmp_path: Path) -> None:
    lines: list[str] = []
    with scratch_dir("arkive-faults-") as data:
        # its own servers: the session's admin token is bootstrapped there too, so the SDK's works
        stack = Stack(StackConfig.for_tests(data, api_key=os.environ["ARKIVE_API_KEY"]), log=lines.append)
        await stack.start()
        running = asyncio.create_task(stack.run(handle_signals=False))
        writers = Writers(stack, tmp_path, "faults" + uuid.uuid4().hex[:8])
        recovery: dict[str, float] = {}
        try:
            for name in COMPONENTS:
                await wait_for_progress(writers, writers.acknowledged() + PROGRESS_BEFORE_KILL)
                victim = next(p for p in stack.processes if p.name == name)
                restarts = victim.restarts
                assert victim.pid is not None
                killed_at = time.time()
                os.kill(victim.pid, signal.SIGKILL)
                await victim.wait_restarts(restarts + 1, timeout=30)

                async def recovered(name: str = name, killed_at: float = killed_at) -> None:
                    took = first_ack_started_after(writers, killed_at)
                    assert took is not None, f"no log started after the kill of {name} was acknowledged yet"
                    recovery[name] = took

                await assert_eventually(recovered, timeout=120, interval=0.1)
            await wait_for_progress(writers, writers.acknowledged() + PROGRESS_BEFORE_KILL)
            await writers.stop()
            assert not running.done(), lines[-20:]

            counts = await verify(stack, writers, tmp_path)
            conn = await asyncpg.connect(stack.database_url)
            try:
                await assert_eventually(lambda: consumers_caught_up(conn, writers.project), timeout=60)
                async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
                    # the reconciler's word on the whole log: nothing missing, nothing parked
                    checks = await client.check_consumers()
                    before = await snapshot(conn)
                    await client.rebuild_projections()
                    after = await snapshot(conn)
            finally:
                await conn.close()
        finally:
            writers.stop_file.touch()
            for p in writers.procs:
                if p.poll() is None:
                    p.kill()
            stack.request_stop()
            await asyncio.wait_for(running, 120)
            incidents = incident_reports(writers, stack.config.logs)  # before the data dir goes

    print("\nfault suite (SIGKILL of each component under the supervising launcher)")
    print("  " + "  ".join(f"{k}={v}" for k, v in counts.items()))
    print("  recovery (SIGKILL -> first acknowledged log that started after it):")
    for name, took in recovery.items():
        print(f"    {name:<10} {took:6.2f} s")
    assert counts["acknowledged"] >= PROGRESS_BEFORE_KILL * (len(COMPONENTS) + 1)
    errors = sorted({a["error"] for a in writers.all_acks() if "error" in a})[:5]  # what a writer was told
    assert counts["lost"] == counts["duplicated"] == counts["unacknowledged"] == counts["corrupt"] == 0, (
        counts,
        errors,
        incidents,
    )
    assert counts["gave up"] == 0, (counts, errors, incidents)
    for c in checks:
        print(f"  consumer {c.consumer}: {c.processed}/{c.expected} processed, {c.redriven} re-driven by the check")
    assert checks and all(c.still_missing == 0 and c.dead_letters == 0 for c in checks), checks
    assert before == after, [t for t in before if before[t] != after[t]]
