"""Downloads against the real stack: server-side path_prefix, the local blob cache across versions,
corrupt cache entries, checkout, verify and zip export (SDK and CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import grpc
import pytest
from arkive_core.credentials import api_key
from sdk_helpers import tree

import arkive
from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc

ARKIVE = Path(sys.executable).with_name("arkive")


def new_project() -> str:
    return "t" + uuid.uuid4().hex[:12]


def cli(stack: Any, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    env["ARKIVE_CACHE_DIR"] = os.environ["ARKIVE_CACHE_DIR"]  # the test's private cache
    return subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=env, timeout=300)


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def log(client: arkive.Client, root: Path, project: str, name: str = "ds") -> arkive.ArtifactVersion:
    art = arkive.Artifact(name)
    art.add_dir(root)
    return client.log_artifact(art, project=project)


def test_path_prefix_is_filtered_by_the_server(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    files = {f"d/{i:02d}": bytes([i]) for i in range(5)} | {"d0": b"d0", "d/sub/x": b"x", "e": b"e"}
    src = write(tmp_path / "src2", files)
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        v = log(client, src, project)
        assert [f.path for f in client.files(v, path_prefix="d/sub")] == ["d/sub/x"]
        assert [f.path for f in client.files(v, path_prefix="e")] == ["e"]
        assert [f.path for f in client.files(v, path_prefix="d/")] == sorted(p for p in files if p.startswith("d/"))
        r = client.download(v, tmp_path / "out", path_prefix="d")
        assert r.files_written == 6 and sorted(tree(tmp_path / "out")) == sorted(p for p in files if p.startswith("d/"))


async def test_path_prefix_pages_and_validation_over_raw_grpc(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    src = write(tmp_path / "src", {f"in/{i}": bytes([i]) for i in range(7)} | {"in0": b"no", "out": b"no"})
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        v = log(client, src, project)
    async with grpc.aio.insecure_channel(stack.gateway_addr, interceptors=bearer_interceptors(api_key())) as ch:
        stub = agrpc.ArtifactServiceStub(ch)
        seen, token = [], ""
        while True:  # tiny pages: the token keeps working inside the prefix's range
            page = await stub.ListFiles(
                apb.ListFilesRequest(ref=v.version_id, page_size=3, page_token=token, path_prefix="in")
            )
            seen += [f.path for f in page.files]
            token = page.next_page_token
            if not token:
                break
        assert seen == [f"in/{i}" for i in range(7)]
        for bad in ("../in", "/in", "in/../..", "in\x00"):
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await stub.ListFiles(apb.ListFilesRequest(ref=v.version_id, path_prefix=bad))
            assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "path_prefix" in (exc.value.details() or "")


def test_cache_hits_across_versions_transfer_no_bytes(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    shared_big, shared_small = os.urandom(3 * 1024 * 1024), b"shared small"
    v0_files = {"big.bin": shared_big, "s.txt": shared_small, "only0.txt": b"zero"}
    v1_files = {"big.bin": shared_big, "s.txt": shared_small, "only1.bin": os.urandom(2 * 1024 * 1024 + 1)}
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        v0 = log(client, write(tmp_path / "v0", v0_files), project)
        v1 = log(client, write(tmp_path / "v1", v1_files), project)
        first = client.download(v0, tmp_path / "d0")
        assert first.bytes_downloaded == sum(len(b) for b in v0_files.values())
        second = client.download(v1, tmp_path / "d1")
        assert second.bytes_downloaded == len(v1_files["only1.bin"])  # only the blob not cached
        assert second.files_from_cache == 2 and second.bytes_from_cache == len(shared_big) + len(shared_small)
        assert tree(tmp_path / "d1") == v1_files

        # The copy they came from edited in place (same size) is detected by its sha256, forgotten
        # and the blob fetched again; the edit reaches no other download.
        with open(tmp_path / "d0" / "big.bin", "r+b") as fh:
            fh.seek(1000)
            fh.write(b"\xff" * 8)
        third = client.download(v1, tmp_path / "d2")
        assert third.bytes_downloaded == len(shared_big)
        assert tree(tmp_path / "d2") == v1_files
        assert tree(tmp_path / "d1") == v1_files
        fourth = client.download(v1, tmp_path / "d3")  # from d2's good copy now
        assert fourth.bytes_downloaded == 0 and tree(tmp_path / "d3") == v1_files


def test_checkout_verify_and_zip_via_cli(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    files = {"a/x.txt": b"x" * 100, "a/y.bin": os.urandom(1_500_000), "b/z.txt": b"z", "top.txt": b"top"}
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        v = log(client, write(tmp_path / "src", files), project)
    root = write(tmp_path / "root", {"a/x.txt": b"X" * 100, "stale/old.txt": b"old", "top.txt": b"top"})

    p = cli(stack, "verify", v.ref, str(root), "--json")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    assert doc["extra"] == ["stale/old.txt"] and doc["missing"] == ["a/y.bin", "b/z.txt"]
    assert doc["changed"] == ["a/x.txt"] and doc["clean"] is False

    p = cli(stack, "checkout", v.ref, str(root), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files_removed"] == ["stale/old.txt"]
    assert tree(root) == files and not (root / "stale").exists()
    p = cli(stack, "verify", v.ref, str(root))
    assert p.returncode == 0 and p.stdout == "", p.stderr

    p = cli(stack, "get", v.ref, "--zip", str(tmp_path / "out.zip"), "--json")
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == files
    p = cli(stack, "get", v.ref, "--prefix", "a", "--zip", str(tmp_path / "a.zip"))
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert sorted(zf.namelist()) == ["a/x.txt", "a/y.bin"]

    info = json.loads(cli(stack, "cache", "info", "--json").stdout)
    assert info["entries"] == 0  # the zips copied checkout's files (verified): no blob was kept twice
    p = cli(stack, "cache", "cleanup", "0", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["entries"] == 0
    p = cli(stack, "cache", "cleanup", "lots")
    assert p.returncode == 2 and "invalid size" in p.stderr
