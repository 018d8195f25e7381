"""What users trip over: use_artifact's type, W&B's three-part refs, --as-of, search(limit=0), several
paths and --as for log/upsert, empty filters that say so, piped search output."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import arkive

ARKIVE = Path(sys.executable).with_name("arkive")


def cli(stack: Any, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    env["ARKIVE_CACHE_DIR"] = os.environ["ARKIVE_CACHE_DIR"]
    return subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=env, timeout=300, cwd=cwd)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def log_bytes(client: arkive.Client, tmp: Path, project: str, name: str, data: bytes, type: str = "dataset") -> Any:
    folder = tmp / uuid.uuid4().hex
    folder.mkdir()
    (folder / "f.bin").write_bytes(data)
    art = arkive.Artifact(name, type)
    art.add_dir(folder)
    return client.log_artifact(art, project)


def test_use_artifact_type_three_part_refs_as_of_and_limit_zero(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = "trip" + uuid.uuid4().hex[:8]
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        v0 = log_bytes(client, tmp_path, p, "ds", b"zero")
        v1 = log_bytes(client, tmp_path, p, "ds", b"one")
        assert client.use_artifact(f"{p}/ds:v0", type="dataset").version == 0
        with pytest.raises(arkive.FailedPrecondition, match="is of type 'dataset', not 'model'"):
            client.use_artifact(f"{p}/ds:v0", type="model")

        with pytest.raises(arkive.InvalidArgument, match=f"write '{p}/ds:v1'"):
            client.get_version(f"acme/{p}/ds:v1")
        monkeypatch.setenv("ARKIVE_ENTITY", "acme")  # this instance's entity: the first part is accepted
        assert client.get_version(f"acme/{p}/ds:v1").version_id == v1.version_id
        with pytest.raises(arkive.InvalidArgument, match="this instance's entity is 'acme'"):
            client.get_version(f"other/{p}/ds:v1")

        between = (v0.created_at.timestamp() + v1.created_at.timestamp()) / 2
        assert client.get_version(f"{p}/ds:latest", as_of=between).version == 0  # latest as it was then
        assert client.get_version(f"{p}/ds:latest").version == 1
        with pytest.raises(arkive.NotFound):
            client.get_version(f"{p}/ds:latest", as_of="1d")  # a day ago it did not exist

        assert len(client.search(p, limit=0)) == 2 == len(client.search(p, limit=None))
        with pytest.raises(arkive.InvalidArgument):
            client.search(p, limit=-1)

    iso = datetime.fromtimestamp(between, UTC).isoformat()
    got = cli(stack, "get", f"{p}/ds:latest", "--as-of", iso, "--out", str(tmp_path / "then"), "--json")
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "then" / "f.bin").read_bytes() == b"zero"
    bad = cli(stack, "get", f"{p}/ds", "--as-of", "soonish")
    assert bad.returncode == 2 and "yesterday" in bad.stderr


def test_cli_several_paths_as_prefix_and_filters_that_match_nothing(stack: Any, tmp_path: Path) -> None:
    p = "trip" + uuid.uuid4().hex[:8]
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(b"A")
    (tmp_path / "labels.csv").write_text("id\n1\n")
    done = cli(
        stack, "log", "imgs", "labels.csv", "--project", p, "--name", "mixed", "--as", "data/train", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert cli(stack, "get", f"{p}/mixed", "--out", str(tmp_path / "out")).returncode == 0
    assert tree(tmp_path / "out") == {"data/train/a.png": b"A", "data/train/labels.csv": b"id\n1\n"}

    plain = cli(stack, "log", "imgs", "labels.csv", "--project", p, "--name", "flat", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.png").write_bytes(b"B")  # the same artifact path as imgs/a.png
    clash = cli(stack, "log", "imgs", "other", "--project", p, "--name", "clash", cwd=tmp_path)
    assert clash.returncode == 2 and "earlier PATH" in clash.stderr
    unnamed = cli(stack, "log", "imgs", "labels.csv", "--project", p, cwd=tmp_path)
    assert unnamed.returncode == 2 and "--name" in unnamed.stderr

    up = cli(
        stack,
        "upsert",
        "imgs",
        "labels.csv",
        "--project",
        p,
        "--name",
        "dist",
        "--distributed-id",
        "j1",
        "--as",
        "part-0",
        cwd=tmp_path,
    )
    assert up.returncode == 0, up.stderr
    assert cli(stack, "finish", f"{p}/dist", "--distributed-id", "j1").returncode == 0
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        assert sorted(f.path for f in client.files(f"{p}/dist")) == ["part-0/a.png", "part-0/labels.csv"]

    none = cli(stack, "get", f"{p}/mixed", "--prefix", "nope", "--out", str(tmp_path / "none"))
    assert none.returncode == 1 and "no files under 'nope'" in none.stderr and "data/" in none.stderr
    types = cli(stack, "ls", "--project", p, "--type", "model")
    assert types.returncode == 1 and "types here: dataset" in types.stderr

    long_name = "x" * 100
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "f").write_bytes(b"f")
    assert cli(stack, "log", "long", "--project", p, "--name", long_name, cwd=tmp_path).returncode == 0
    piped = cli(stack, "search", "--project", p, "--name", "x*")  # stdout is a pipe here
    assert piped.returncode == 0, piped.stderr
    lines = piped.stdout.splitlines()
    assert lines[0].startswith("ref\ttype") and lines[1].startswith(f"{p}/{long_name}:v0\tdataset\t")
