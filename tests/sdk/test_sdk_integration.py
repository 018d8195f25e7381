"""The SDK and CLI against the real stack (the session fixture `stack` from tests/conftest.py).

Every test uses its own project so tests never see each other's artifacts.
"""

from __future__ import annotations

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
    return "t" + uuid.uuid4().hex[:12]


def cli(stack: Any, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def cli_json(stack: Any, *argv: str) -> dict[str, Any]:
    return json.loads(cli(stack, *argv, "--json").stdout)


@pytest.fixture
def big_tree(tmp_path: Path) -> Path:
    """Nested folders, an empty file, a 20 MiB file and 500 small files."""
    root = tmp_path / "data"
    (root / "deep" / "er" / "still").mkdir(parents=True)
    (root / "small").mkdir()
    (root / "empty.txt").write_bytes(b"")
    (root / "deep" / "er" / "still" / "leaf.json").write_text('{"a": 1}')
    (root / "big.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    for i in range(500):
        (root / "small" / f"{i:03d}.txt").write_text(f"sample {i}\n")
    return root


def test_cli_log_versions_show_get_roundtrip(stack: Any, big_tree: Path, tmp_path: Path) -> None:
    project = new_project()
    doc = cli_json(
        stack,
        "log", str(big_tree), "--project", project, "--name", "mnist", "--type", "dataset",
        "--alias", "best", "--tag", "raw", "--metadata", '{"rows": 70000}', "--description", "digits",
    )  # fmt: skip
    assert doc["created"] is True
    assert (doc["project"], doc["name"], doc["version"], doc["version_name"]) == (project, "mnist", 0, "v0")
    assert doc["file_count"] == 503
    assert doc["total_size"] == sum(len(b) for b in tree(big_tree).values())
    assert doc["bytes_uploaded"] == doc["total_size"]
    # 503 files with 503 distinct digests; the empty file's blob may already be stored by another test.
    assert doc["files_uploaded"] in (502, 503)
    assert doc["metadata"] == {"rows": 70000}
    assert "best" in doc["aliases"] and doc["tags"] == ["raw"] and doc["description"] == "digits"

    listing = cli_json(stack, "versions", f"{project}/mnist")
    assert [v["version_id"] for v in listing["versions"]] == [doc["version_id"]]

    shown = cli_json(stack, "show", f"{project}/mnist:latest")
    assert shown["version_id"] == doc["version_id"] and shown["manifest_digest"] == doc["manifest_digest"]
    assert cli_json(stack, "show", f"{project}/mnist:best")["version_id"] == doc["version_id"]

    out = tmp_path / "restored"
    got = cli_json(stack, "get", f"{project}/mnist:v0", "--out", str(out))
    assert (got["files_written"], got["bytes_written"]) == (503, doc["total_size"])
    assert tree(out) == tree(big_tree)
    again = cli_json(stack, "get", f"{project}/mnist:v0", "--out", str(out))
    assert (again["files_written"], again["files_skipped"]) == (0, 503)

    arts = cli_json(stack, "ls", "--project", project, "--type", "dataset")
    assert [(a["name"], a["version_count"]) for a in arts["artifacts"]] == [("mnist", 1)]


def test_cli_unchanged_relog_uploads_nothing(stack: Any, big_tree: Path) -> None:
    project = new_project()
    first = cli_json(stack, "log", str(big_tree), "-p", project, "-n", "mnist")
    second = cli_json(stack, "log", str(big_tree), "-p", project, "-n", "mnist", "--alias", "prod")
    assert second["created"] is False
    assert (second["bytes_uploaded"], second["files_uploaded"]) == (0, 0)
    assert second["version_id"] == first["version_id"]
    assert "prod" in second["aliases"]
    human = cli(stack, "log", str(big_tree), "-p", project, "-n", "mnist").stdout
    assert human.startswith(f"unchanged: {project}/mnist:v0 already has this content; nothing uploaded")
    assert len(cli_json(stack, "versions", f"{project}/mnist")["versions"]) == 1


def test_cli_new_version_uploads_only_new_blobs(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("a" * 1000)
    cli_json(stack, "log", str(d), "-p", project)
    (d / "b.txt").write_text("b" * 10)
    v1 = cli_json(stack, "log", str(d), "-p", project)
    assert (v1["created"], v1["version"], v1["files_uploaded"], v1["bytes_uploaded"]) == (True, 1, 1, 10)
    assert "latest" in cli_json(stack, "show", f"{project}/d")["aliases"]


def test_cli_unknown_ref_is_not_found(stack: Any) -> None:
    p = cli(stack, "show", f"{new_project()}/nothing:v0", "--json", check=False)
    assert p.returncode == 1 and p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: NOT_FOUND: "), p.stderr
    p = cli(stack, "get", f"{new_project()}/nothing", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: NOT_FOUND: ")


def test_sdk_log_use_download(stack: Any, big_tree: Path, tmp_path: Path) -> None:
    project = new_project()
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("mnist", type="dataset", metadata={"rows": 70000, "nested": {"x": [1, 2]}})
        art.add_dir(big_tree / "small", name="small/")
        art.add_file(big_tree / "empty.txt")
        v = client.log_artifact(art, aliases=["best"], tags=["raw"], label="first-cut")
        assert v.created and v.ref == f"{project}/mnist:v0" and v.label == "first-cut"
        assert v.metadata == {"rows": 70000, "nested": {"x": [1, 2]}}
        used = client.use_artifact(f"{project}/mnist:best")
        assert used.version_id == v.version_id
        assert client.get_version(f"{project}/mnist:first-cut").version_id == v.version_id
        assert client.get_version(v.version_id).ref == v.ref  # a bare version id is a ref
        path = used.download(tmp_path / "restored")
        assert tree(path / "small") == tree(big_tree / "small")
        assert (path / "empty.txt").read_bytes() == b""
        files = list(used.files())
        assert len(files) == 501 and [f.path for f in files] == sorted(f.path for f in files)
        part = client.download(v, tmp_path / "part", path_prefix="small")  # a folder, not a string prefix
        assert part.files_written == 500 and tree(tmp_path / "part" / "small") == tree(big_tree / "small")
        assert client.download(v, tmp_path / "none", path_prefix="small/00").files_written == 0
        with pytest.raises(arkive.NotFound):
            client.get_version(f"{project}/mnist:v7")


async def test_async_client_roundtrip(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    d = tmp_path / "d"
    (d / "x").mkdir(parents=True)
    (d / "x" / "a.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 1))
    (d / "b.txt").write_text("b")
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("model", type="model")
        art.add_dir(d)
        v = await client.log_artifact(art)
        assert v.created and v.type == "model"
        again = await client.log_artifact(art)
        assert not again.created and again.bytes_uploaded == 0
        out = await (await client.use_artifact("model:latest")).download(tmp_path / "out")
        assert tree(out) == tree(d)
        assert [c.name for c in await client.artifacts(type="model")] == ["model"]
        assert [x.version for x in await client.versions("model")] == [0]


def test_admin_rebuild_projections(stack: Any) -> None:
    doc = cli_json(stack, "admin", "rebuild-projections")
    assert isinstance(doc["rebuilds"], list) and doc["rebuilds"]
    assert all(isinstance(r["events_replayed"], int) for r in doc["rebuilds"])
