"""Distributed artifacts through the SDK and CLI against the real stack (session fixture `stack`).

Every test uses its own project. The 2-replica, many-process version of this is tests/scale.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import tree

import arkive

ARKIVE = Path(sys.executable).with_name("arkive")


def new_project() -> str:
    return "d" + uuid.uuid4().hex[:12]


def make_shard(root: Path, worker: int, files: int = 20, shared: bytes = b"shared by every worker\n") -> Path:
    d = root / f"w{worker}"
    (d / f"part-{worker}").mkdir(parents=True)
    for i in range(files):
        (d / f"part-{worker}" / f"{i:03d}.txt").write_bytes(f"{d.name} {i}\n".encode() * (i + 1))
    (d / "meta").mkdir()
    (d / "meta" / "common.txt").write_bytes(shared)
    return d


def artifact(path: Path, name: str = "shards") -> arkive.Artifact:
    art = arkive.Artifact(name)
    art.add_dir(path)
    return art


async def test_concurrent_workers_one_version(stack: Any, tmp_path: Path) -> None:
    project, did = new_project(), "run-1"
    shards = [make_shard(tmp_path / "src", w) for w in range(4)]
    clients = [arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(c.upsert_artifact(artifact(s), distributed_id=did) for c, s in zip(clients, shards, strict=True))
        )
        assert len({r.draft_id for r in results}) == 1
        assert max(r.file_count for r in results) == 4 * 20 + 1
        # A retried upsert (the same files again) changes nothing and uploads nothing.
        again = await clients[0].upsert_artifact(artifact(shards[0]), distributed_id=did)
        assert (again.file_count, again.files_uploaded) == (81, 0)
        finishes = await asyncio.gather(
            *(c.finish_artifact("shards", distributed_id=did, aliases=["ready"]) for c in clients[:3])
        )
        assert len({v.version_id for v in finishes}) == 1
        assert sorted(v.created for v in finishes) == [False, False, True]
        v = finishes[0]
        assert (v.version, v.file_count) == (0, 81)
        expected: dict[str, bytes] = {}
        for s in shards:
            expected.update(tree(s))
        out = await v.download(tmp_path / "out")
        assert tree(out) == expected
        with pytest.raises(arkive.FailedPrecondition, match="already finished as v0"):
            await clients[1].upsert_artifact(artifact(shards[1]), distributed_id=did)
        fresh = await clients[1].upsert_artifact(artifact(shards[1]), distributed_id=did, start_new=True)
        assert fresh.draft_id != results[0].draft_id and fresh.file_count == 21
        v1 = await clients[1].finish_artifact(artifact(shards[2]), distributed_id=did, metadata={"round": 2})
        assert v1.created and (v1.version, v1.file_count, v1.metadata) == (1, 41, {"round": 2})
    finally:
        for c in clients:
            await c.close()


def test_conflict_overwrite_drafts_and_abort(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    a = make_shard(tmp_path / "a", 0, files=2, shared=b"one")
    b = make_shard(tmp_path / "b", 1, files=2, shared=b"two")
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as c:
        first = c.upsert_artifact(artifact(a), distributed_id="conflict")
        with pytest.raises(arkive.FailedPrecondition) as info:
            c.upsert_artifact(artifact(b), distributed_id="conflict")
        msg = info.value.message
        digest_one = next(f.digest for f in c._run(_hash_all(artifact(a))) if f.path == "meta/common.txt")
        assert "meta/common.txt" in msg and digest_one in msg
        assert c.upsert_artifact(artifact(b), distributed_id="conflict", overwrite=True).file_count == 5
        (d,) = c.drafts()
        assert (d.draft_id, d.distributed_id, d.file_count, d.name) == (first.draft_id, "conflict", 5, "shards")
        assert c.drafts(idle_seconds=3600) == []
        c.abort_draft(d)
        assert c.drafts() == []
        with pytest.raises(arkive.NotFound):
            c.finish_artifact("shards", distributed_id="conflict")
        with pytest.raises(arkive.FailedPrecondition):
            c.abort_draft(d.draft_id)


async def _hash_all(art: arkive.Artifact) -> list[Any]:
    from arkive.engine.files import hash_files

    return await hash_files(art.local_files())


def cli_env(stack: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    return env


def cli(stack: Any, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=cli_env(stack), timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_cli_workers_then_finish_then_get(stack: Any, tmp_path: Path) -> None:
    project, did = new_project(), "cli-run"
    shards = [make_shard(tmp_path / "src", w, files=5) for w in range(3)]
    procs = [
        subprocess.Popen(
            [str(ARKIVE), "upsert", str(s), "-p", project, "--name", "shards", "--distributed-id", did, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(stack),
        )
        for s in shards
    ]
    docs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        docs.append(json.loads(out))
    assert len({d["draft_id"] for d in docs}) == 1 and all(d["files_upserted"] == 6 for d in docs)

    listed = json.loads(cli(stack, "drafts", "-p", project, "--json").stdout)
    assert [(d["distributed_id"], d["file_count"]) for d in listed["drafts"]] == [(did, 16)]

    ref = f"{project}/shards"
    v = json.loads(cli(stack, "finish", ref, "--distributed-id", did, "--alias", "best", "--json").stdout)
    assert v["created"] is True and v["file_count"] == 16 and "best" in v["aliases"]
    again = cli(stack, "finish", f"{project}/shards", "--distributed-id", did)
    assert again.stdout.startswith(f"already finished: distributed id {did} is {project}/shards:v0")

    late = cli(stack, "upsert", str(shards[0]), "-p", project, "--name", "shards", "--distributed-id", did, check=False)
    assert late.returncode == 1 and late.stderr.startswith("error: FAILED_PRECONDITION: ")
    assert len(late.stderr.splitlines()) == 1

    got = json.loads(cli(stack, "get", f"{project}/shards:best", "--out", str(tmp_path / "out"), "--json").stdout)
    assert got["files_written"] == 16
    expected: dict[str, bytes] = {}
    for s in shards:
        expected.update(tree(s))
    assert tree(tmp_path / "out") == expected
