"""Runs, lineage export and the @step cache through the SDK and CLI against the real stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pydot
import pytest

import arkive


def new_project() -> str:
    return f"lin-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def artifact(tmp: Path, name: str, content: bytes, type: str = "dataset") -> arkive.Artifact:
    folder = tmp / f"{name}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "data.bin").write_bytes(content)
    art = arkive.Artifact(name, type=type)
    art.add_dir(folder)
    return art


def check_mermaid(text: str) -> None:
    """A small syntax check: header, node declarations, labelled edges between declared nodes."""
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart LR"
    declared = set()
    for line in lines[1:]:
        line = line.strip()
        if m := re.fullmatch(r'(n\d+)(\["[^"]*"\]|\(\["[^"]*"\]\))', line):
            declared.add(m.group(1))
        elif m := re.fullmatch(r"(n\d+) -->\|(used|logged)\| (n\d+)", line):
            assert {m.group(1), m.group(3)} <= declared
        else:
            assert re.fullmatch(r"style n\d+ stroke-width:3px", line), line


def test_runs_build_the_graph_and_export_it(client: arkive.Client, tmp_path: Path, stack: Any) -> None:
    p = new_project()
    with client.run(p, job_type="load", name="loader") as run:
        ds = run.log_artifact(artifact(tmp_path, "my_dataset", b"rows " + p.encode()))
    with client.run(p, job_type="train", name="trainer", config={"lr": 0.1}) as run:
        used = run.use_artifact(f"{p}/my_dataset:latest")
        model = run.log_artifact(artifact(tmp_path, "my_model", b"weights " + p.encode(), "model"))
    assert used.version_id == ds.version_id
    info = client.get_run(run.run_id)
    assert info.state == "finished" and info.config == {"lr": 0.1}
    assert info.used_version_ids == [ds.version_id]  # recorded by the run's own command
    deadline = time.monotonic() + 15
    while client.get_run(run.run_id).logged_version_ids != [model.version_id]:  # output edges come off the bus
        assert time.monotonic() < deadline
        time.sleep(0.1)
    expected = {f"{p}/my_model:v0", "trainer [train] finished", f"{p}/my_dataset:v0", "loader [load] finished"}
    deadline = time.monotonic() + 15
    while True:  # version nodes and "logged" edges arrive through the bus consumer
        try:
            graph = client.lineage(model, direction="up", depth=5)
            if {n.label for n in graph.nodes} == expected and len(graph.edges) == 3:
                break
        except arkive.NotFound:
            pass
        assert time.monotonic() < deadline, graph if "graph" in locals() else "not indexed"
        time.sleep(0.1)
    assert [r.name for r in client.logged_by(model)] == ["trainer"]
    assert [r.name for r in client.used_by(ds)] == ["trainer"]
    assert [r.name for r in client.logged_by(ds)] == ["loader"]
    check_mermaid(arkive._lineage_export.to_mermaid(graph))
    dot = arkive._lineage_export.to_dot(graph)
    parsed = pydot.graph_from_dot_data(dot)
    assert parsed and len(parsed[0].get_edges()) == 3 and len(parsed[0].get_nodes()) == 4
    env = {**os.environ, "ARKIVE_GATEWAY_ADDR": stack.gateway_addr}
    arkive_bin = str(Path(sys.executable).with_name("arkive"))
    out = subprocess.run(
        [arkive_bin, "lineage", f"{p}/my_model", "--format", "mermaid"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    check_mermaid(out.stdout)
    out = subprocess.run(
        [arkive_bin, "lineage", f"{p}/my_dataset:v0", "--down", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert {n["name"] for n in doc["nodes"]} == {"my_dataset", "trainer", "my_model"}
    runs = json.loads(
        subprocess.run(
            [arkive_bin, "run", "list", "--project", p, "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    assert [r["name"] for r in runs["runs"]] == ["trainer", "loader"]
    bad = subprocess.run([arkive_bin, "lineage", f"{p}/nothing"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("error: NOT_FOUND")


def test_a_failing_block_marks_the_run_failed_and_heartbeats_keep_it_alive(client: arkive.Client) -> None:
    p = new_project()
    with pytest.raises(RuntimeError), client.run(p, job_type="boom", heartbeat_timeout=2) as run:
        time.sleep(3.5)  # longer than the timeout: only heartbeats keep it running
        assert client.get_run(run.run_id).state == "running"
        raise RuntimeError("training diverged")
    assert client.get_run(run.run_id).state == "failed"


def make_step(client: arkive.Client, project: str, tmp: Path, body: str, calls: list[str]):
    """Builds a step from source text, so two versions of one step differ only in their code."""
    namespace: dict[str, Any] = {"arkive": arkive, "tmp": tmp, "calls": calls, "uuid": uuid}
    source = (
        "def train(dataset, lr):\n"
        "    calls.append('ran')\n"
        f"    content = {body}\n"
        "    out = tmp / uuid.uuid4().hex\n"
        "    out.mkdir()\n"
        "    (out / 'model.bin').write_bytes(content)\n"
        "    art = arkive.Artifact('model', type='model')\n"
        "    art.add_dir(out)\n"
        "    return art\n"
    )
    exec(compile(source, f"<step {body}>", "exec"), namespace)
    fn = namespace["train"]
    fn.__module__ = "tests.steps"
    import linecache

    linecache.cache[f"<step {body}>"] = (len(source), None, source.splitlines(True), f"<step {body}>")
    return arkive.step(fn, cache=True, client=client, project=project)


def test_step_cache_hit_and_misses(client: arkive.Client, tmp_path: Path) -> None:
    p = new_project()
    with client.run(p, job_type="load") as run:
        run.log_artifact(artifact(tmp_path, "my_dataset", b"data " + p.encode()))
    calls: list[str] = []
    train = make_step(client, p, tmp_path, "str(lr).encode() + dataset.manifest_digest.encode()", calls)
    ds = arkive.Ref(f"{p}/my_dataset:latest")
    first = train(ds, lr=0.1)
    again = train(ds, lr=0.1)
    assert calls == ["ran"] and again.version_id == first.version_id  # hit: not run again
    other = train(ds, lr=0.2)
    assert calls == ["ran", "ran"] and other.version_id != first.version_id  # changed parameter
    changed = make_step(client, p, tmp_path, "b'v2 ' + str(lr).encode()", calls)
    changed(ds, lr=0.1)
    assert calls == ["ran"] * 3  # changed code
    from arkive_proto.v1 import retention_service_pb2 as rpb
    from arkive_proto.v1 import retention_service_pb2_grpc as rg

    async def delete() -> None:
        stub = rg.RetentionServiceStub(client._aclient._ch())
        await stub.DeleteVersion(rpb.DeleteVersionRequest(ref=first.version_id, delete_aliases=True))

    client._run(delete())
    train(ds, lr=0.1)
    assert calls == ["ran"] * 4  # the cached output was deleted: a miss


def test_ttl_at_log_time(client: arkive.Client, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    p = new_project()
    short = client.log_artifact(artifact(tmp_path, "scratch", b"tmp " + p.encode()), p, ttl=timedelta(hours=1))
    keep = client.log_artifact(artifact(tmp_path, "keeper", b"keep " + p.encode()), p, ttl=None)
    later = datetime.now(UTC) + timedelta(hours=2)
    plan = client.retention_plan(p, as_of=later)
    assert [d.version_id for d in plan.deletions] == [short.version_id]
    assert keep.version_id not in {d.version_id for d in plan.deletions}
