"""Version diffs through the SDK, the CLI and the raw DiffFiles contract against the real stack."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest
from arkive_core.credentials import api_key
from arkive_core.errors import NotFound
from test_sdk_catalog_integration import cli, cli_json, new_project

import arkive
from arkive._diff import metadata_diff
from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def log(
    client: arkive.Client, tmp: Path, project: str, files: dict[str, bytes], metadata: dict
) -> arkive.ArtifactVersion:
    folder = tmp / f"v{len(list(tmp.iterdir()))}"
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    a = arkive.Artifact("m", type="dataset", metadata=metadata)
    a.add_dir(folder)
    return client.log_artifact(a, project=project)


@pytest.fixture
def pair(client, tmp_path) -> tuple[str, arkive.ArtifactVersion, arkive.ArtifactVersion]:
    project = new_project("diff")
    same = project.encode()
    v0 = log(
        client,
        tmp_path,
        project,
        {"keep.txt": same, "b/edit.bin": b"old", "gone.txt": b"bye " + same, "b/c/grow": b"1"},
        {"rows": 10, "metrics": {"acc": 0.5, "loss": 0.9}, "owner": "ml", "n": 1},
    )
    v1 = log(
        client,
        tmp_path,
        project,
        {"keep.txt": same, "b/edit.bin": b"newer", "new.txt": b"hi " + same, "b/c/grow": b"12"},
        {"rows": 10, "metrics": {"acc": 0.75, "loss": 0.9, "f1": 0.6}, "tag": None, "n": 1.0},
    )
    return project, v0, v1


def test_files_and_metadata_difference(client, pair):
    project, v0, v1 = pair
    d = client.diff(f"{project}/m:v0", f"{project}/m:latest")
    assert (d.a.version, d.b.version) == (0, 1)
    assert [(f.path, f.kind) for f in d.files] == [
        ("b/c/grow", "changed"),
        ("b/edit.bin", "changed"),
        ("gone.txt", "removed"),
        ("new.txt", "added"),
    ]
    edit = d.changed[1]
    assert (edit.before.size, edit.after.size) == (3, 5) and edit.before.digest != edit.after.digest
    assert (
        d.removed[0].after is None and d.added[0].before is None and d.added[0].after.size == len(b"hi ") + len(project)
    )
    assert d.metadata.added == {"metrics.f1": 0.6, "tag": None}
    assert d.metadata.removed == {"owner": "ml"}
    assert d.metadata.changed == {"metrics.acc": (0.5, 0.75), "n": (1, 1.0)}
    back = client.diff(v1, v0)  # the other way round: added and removed swap
    assert [(f.path, f.kind) for f in back.files if f.kind != "changed"] == [
        ("gone.txt", "added"),
        ("new.txt", "removed"),
    ]
    same = client.diff(v0, f"{project}/m:v0")
    assert same.files == () and not same.metadata
    assert [f.path for f in client.diff_files(v0, v1)] == [f.path for f in d.files]


def test_pages_are_consistent_and_bad_refs_are_not_found(stack, client, pair):
    project, v0, v1 = pair

    async def all_pages() -> list[tuple[str, int]]:
        async with grpc.aio.insecure_channel(stack.gateway_addr, interceptors=bearer_interceptors(api_key())) as ch:
            stub = agrpc.ArtifactServiceStub(ch)
            out, token = [], ""
            while True:
                page = await stub.DiffFiles(
                    apb.DiffFilesRequest(ref_a=v0.version_id, ref_b=v1.version_id, page_size=1, page_token=token)
                )
                assert len(page.changes) == 1
                out += [(c.path, c.kind) for c in page.changes]
                token = page.next_page_token
                if not token:
                    return out

    assert asyncio.run(all_pages()) == [
        ("b/c/grow", apb.FILE_CHANGE_KIND_CHANGED),
        ("b/edit.bin", apb.FILE_CHANGE_KIND_CHANGED),
        ("gone.txt", apb.FILE_CHANGE_KIND_REMOVED),
        ("new.txt", apb.FILE_CHANGE_KIND_ADDED),
    ]
    with pytest.raises(NotFound):
        client.diff(v0, f"{project}/m:v7")


def test_cli_diff_json_and_text(stack, pair):
    project = pair[0]
    doc = cli_json(stack, "diff", f"{project}/m:v0", f"{project}/m:v1")
    assert [f["path"] for f in doc["files"]["changed"]] == ["b/c/grow", "b/edit.bin"]
    assert doc["files"]["added"] == [{"path": "new.txt", "change": "added", "before": None, "after": {
        "digest": doc["files"]["added"][0]["after"]["digest"], "size": len(b"hi ") + len(project)}}]  # fmt: skip
    assert doc["metadata"]["changed"]["metrics.acc"] == {"old": 0.5, "new": 0.75}
    assert doc["metadata"]["removed"] == {"owner": "ml"} and doc["same_content"] is False
    text = cli(stack, "diff", "m:v0", "m:v1", "--project", project).stdout
    assert "- gone.txt" in text and "+ new.txt" in text and "~ metadata metrics.acc: 0.5 -> 0.75" in text
    assert text.splitlines()[-1].startswith("1 added, 1 removed, 2 changed files; 2 added, 1 removed, 2 changed")
    bad = cli(stack, "diff", f"{project}/m:v0", f"{project}/nope:v0", ok=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: NOT_FOUND")


def test_metadata_diff_is_by_leaf_path():
    d = metadata_diff({"a": {"b": 1, "c": {}}, "x": [1]}, {"a": {"b": 1, "c": {"d": True}}, "x": [1, 2]})
    assert (d.added, d.removed, d.changed) == ({"a.c.d": True}, {"a.c": {}}, {"x": ([1], [1, 2])})
