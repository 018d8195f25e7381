"""Incremental versions through the SDK and the CLI against the real stack: new_draft() of a version,
add/replace/remove, log -> a version sharing every unchanged entry, with only the delta uploaded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import grpc
import pytest
from arkive_core.credentials import api_key
from arkive_core.errors import InvalidArgument, NotFound
from sdk_helpers import tree
from test_sdk_integration import cli_json, new_project

import arkive
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import blob_service_pb2_grpc as bg


def write(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def base_files() -> dict[str, bytes]:
    """50 files with random content (so no other test holds their blobs)."""
    files = {f"keep/{i:02d}.bin": os.urandom(1000 + i) for i in range(40)}
    files |= {f"old/part/{i}.bin": os.urandom(500) for i in range(5)}
    for path in ("old/partition.txt", "rm.txt", "replace.txt", "a.txt", "b.txt"):
        files[path] = os.urandom(300)
    return files


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def client(stack: Any) -> Any:
    with arkive.Client(stack.gateway_addr, new_project(), progress=False) as c:
        yield c


def test_new_draft_logs_only_the_delta(client: Any, tmp_path: Path) -> None:
    files = base_files()
    art = arkive.Artifact("mnist", metadata={"rows": 50, "split": "all"}, description="digits")
    art.add_dir(write(tmp_path / "v0", files))
    base = client.log_artifact(art, aliases=["best"])
    assert base.file_count == 50

    draft = client.use_artifact("mnist:best").new_draft()
    assert (draft.name, draft.type, draft.metadata, draft.description) == ("mnist", "dataset", base.metadata, "digits")
    delta = {"replace.txt": os.urandom(4000), "new/one.bin": os.urandom(2000), "new/two.bin": os.urandom(3000)}
    local = write(tmp_path / "delta", delta)
    draft.add_file(local / "replace.txt", "replace.txt")
    draft.add_dir(local / "new", "new")
    draft.add_file(local / "replace.txt", "scratch.txt")
    draft.remove("scratch.txt")  # drops the local file added above; records no removal
    draft.remove("old/part/")  # a folder of the base (not old/partition.txt)
    draft.remove("rm.txt")
    assert draft.removals == ["old/part", "rm.txt"] and len(draft) == 3
    draft.metadata["rows"] = 46
    v = client.log_artifact(draft, tags=["delta"])

    assert (v.created, v.version, v.file_count) == (True, 1, 46)
    assert (v.files_uploaded, v.bytes_uploaded) == (3, sum(len(d) for d in delta.values()))
    assert v.metadata == {"rows": 46, "split": "all"} and v.description == "digits" and v.tags == ("delta",)
    expected = {p: d for p, d in files.items() if p != "rm.txt" and not p.startswith("old/part/")} | delta
    assert tree(Path(v.download(tmp_path / "restored"))) == expected
    got = {f.path: f.digest for f in v.files()}
    assert got == {p: digest(d) for p, d in expected.items()}
    assert base.metadata == {"rows": 50, "split": "all"}  # the base is untouched
    assert client.drafts() == []

    # The same delta again: identical content, the existing version; only nothing new uploaded.
    again = client.get_version(base.version_id).new_draft()
    again.add_dir(local)
    for p in ("old/part", "rm.txt"):
        again.remove(p)
    same = client.log_artifact(again)
    assert (same.created, same.version_id, same.bytes_uploaded) == (False, v.version_id, 0)


def test_bad_removals_and_projects_are_refused(client: Any, tmp_path: Path) -> None:
    art = arkive.Artifact("ds")
    art.add_dir(write(tmp_path / "v0", {"x.txt": os.urandom(10), "dir/y.txt": os.urandom(10)}))
    base = client.log_artifact(art)
    draft = base.new_draft()
    draft.remove("nope.txt")
    z = os.urandom(99)
    draft.add_file(write(tmp_path / "d", {"z.txt": z}) / "z.txt")
    with pytest.raises(NotFound, match=r"nope\.txt"):
        client.log_artifact(draft)
    with grpc.insecure_channel(client.address) as channel:  # the removal failed before any upload
        missing = bg.BlobServiceStub(channel).FindMissingBlobs(
            bpb.FindMissingBlobsRequest(digests=[digest(z)]), metadata=[("authorization", f"Bearer {api_key()}")]
        )
        assert list(missing.missing) == [digest(z)]
    assert [v.version for v in client.versions("ds")] == [0] and client.drafts() == []  # aborted, nothing logged
    with pytest.raises(InvalidArgument, match="only be logged to project"):
        client.log_artifact(base.new_draft(), project=new_project())
    with pytest.raises(InvalidArgument, match="invalid path"):
        draft.remove("../up")
    with pytest.raises(InvalidArgument, match="use log_artifact"):
        client.upsert_artifact(base.new_draft(), distributed_id="d1")
    with pytest.raises(NotFound):
        arkive.Artifact("fresh").remove("x.txt")  # without a base there is nothing to remove


async def test_async_new_draft(stack: Any, tmp_path: Path) -> None:
    async with arkive.AsyncClient(stack.gateway_addr, new_project(), progress=False) as client:
        art = arkive.Artifact("m", type="model")
        art.add_dir(write(tmp_path / "v0", {"w/a.bin": os.urandom(100), "w/b.bin": os.urandom(100)}))
        await client.log_artifact(art)
        draft = (await client.use_artifact("m:latest")).new_draft()
        draft.remove("w/a.bin")
        v = await client.log_artifact(draft, aliases=["slim"])
        assert (v.type, v.file_count, v.files_uploaded, v.bytes_uploaded) == ("model", 1, 0, 0)
        assert [f.path async for f in v.files()] == ["w/b.bin"] and "slim" in v.aliases


def test_cli_log_base_remove(stack: Any, tmp_path: Path) -> None:
    project = new_project()
    files = base_files()
    v0 = cli_json(stack, "log", str(write(tmp_path / "mnist", files)), "-p", project, "--metadata", '{"a": 1}')
    delta = {"replace.txt": os.urandom(5000), "extra/new.bin": os.urandom(700)}
    doc = cli_json(
        stack, "log", "--base", "mnist:latest", str(write(tmp_path / "delta", delta)), "-p", project,
        "--remove", "old/part", "--remove", "rm.txt", "--metadata", '{"b": 2}', "--alias", "best",
    )  # fmt: skip
    assert (doc["created"], doc["version"], doc["base"], doc["file_count"]) == (True, 1, v0["ref"], 45)
    assert (doc["files_uploaded"], doc["bytes_uploaded"]) == (2, 5700)
    assert doc["metadata"] == {"a": 1, "b": 2} and "best" in doc["aliases"]
    out = cli_json(stack, "get", f"{project}/mnist:best", "--out", str(tmp_path / "got"))
    expected = {p: d for p, d in files.items() if p != "rm.txt" and not p.startswith("old/part/")} | delta
    assert tree(Path(out["path"])) == expected
