"""Distributed artifacts in the SDK and CLI against the in-memory gateway: upsert_artifact,
finish_artifact, drafts, abort_draft, the retry policy of idempotent calls, and their commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway
from sdk_helpers import tree

import arkive
import arkive._convert as convert_mod
import arkive._rpc as rpc_mod
from arkive import (
    Artifact,
    AsyncArtifactVersion,
    AsyncClient,
    Client,
    Draft,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
    UpsertResult,
    cli,
)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpc_mod, "RETRY_BASE_DELAY", 0.001)


def shard(root: Path, worker: int, n: int = 3, shared: bytes = b"shared\n") -> Artifact:
    """Worker `worker`'s part: n own files under w<worker>/ and one path every worker shares."""
    d = root / f"w{worker}"
    (d / f"w{worker}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (d / f"w{worker}" / f"{i}.txt").write_text(f"worker {worker} file {i}\n")
    (d / "common.txt").write_bytes(shared)
    art = Artifact("shards")
    art.add_dir(d)
    return art


def client(gw: FakeGateway) -> Client:
    return Client(gw.address, project="demo", progress=False)


def test_workers_upsert_then_one_finish(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    st = fake_gateway.state
    with client(fake_gateway) as c:
        r0 = c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        assert isinstance(r0, UpsertResult)
        assert (r0.project, r0.name, r0.type, r0.distributed_id) == ("demo", "shards", "dataset", "run-1")
        assert (r0.file_count, r0.files_upserted, r0.files_uploaded) == (4, 4, 4)
        r1 = c.upsert_artifact(shard(tmp_path, 1), distributed_id="run-1")
        assert r1.draft_id == r0.draft_id
        # common.txt has the same path and content in both: stored once, uploaded once.
        assert (r1.file_count, r1.files_upserted, r1.files_uploaded) == (7, 4, 3)
        assert r1.to_dict()["file_count"] == 7
        v = c.finish_artifact("shards", distributed_id="run-1", metadata={"workers": 2}, aliases=["ready"])
        assert v.created and (v.ref, v.file_count) == ("demo/shards:v0", 7)
        assert v.metadata == {"workers": 2} and "ready" in v.aliases
        again = c.finish_artifact("demo/shards", distributed_id="run-1")
        assert not again.created and again.version_id == v.version_id
        out = v.download(tmp_path / "out")
        assert tree(out) == {**tree(tmp_path / "w0"), **tree(tmp_path / "w1")}
    assert st.calls["CreateDraft"] == 0 and st.calls["CommitDraft"] == 0


def test_resending_an_upsert_changes_nothing_and_uploads_nothing(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    with client(fake_gateway) as c:
        art = shard(tmp_path, 0)
        first = c.upsert_artifact(art, distributed_id="run-1")
        uploads = fake_gateway.state.calls["UploadBlob"] + fake_gateway.state.calls["UploadBlobs"]
        assert uploads > 0
        again = c.upsert_artifact(art, distributed_id="run-1")
        assert (again.draft_id, again.file_count) == (first.draft_id, first.file_count)
        assert (again.files_uploaded, again.bytes_uploaded) == (0, 0)
        assert fake_gateway.state.calls["UploadBlob"] + fake_gateway.state.calls["UploadBlobs"] == uploads


def test_conflicting_content_needs_overwrite(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    st = fake_gateway.state
    with client(fake_gateway) as c:
        c.upsert_artifact(shard(tmp_path / "a", 0, shared=b"one"), distributed_id="run-1")
        calls = st.calls["UpsertFiles"]
        with pytest.raises(FailedPrecondition, match=r"common\.txt was already added"):
            c.upsert_artifact(shard(tmp_path / "b", 1, shared=b"two"), distributed_id="run-1")
        assert st.calls["UpsertFiles"] == calls + 1  # an answer, not a transient failure: no retry
        r = c.upsert_artifact(shard(tmp_path / "b", 1, shared=b"two"), distributed_id="run-1", overwrite=True)
        assert r.file_count == 7
        v = c.finish_artifact("shards", distributed_id="run-1")
        assert {f.path: f.size for f in v.files()}["common.txt"] == 3


def test_upsert_after_finish_needs_start_new(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    with client(fake_gateway) as c:
        first = c.upsert_artifact(shard(tmp_path / "a", 0), distributed_id="daily")
        c.finish_artifact("shards", distributed_id="daily")
        with pytest.raises(FailedPrecondition, match="already finished as v0"):
            c.upsert_artifact(shard(tmp_path / "b", 1), distributed_id="daily")
        fresh = c.upsert_artifact(shard(tmp_path / "b", 1), distributed_id="daily", start_new=True)
        assert fresh.draft_id != first.draft_id and fresh.file_count == 4
        v1 = c.finish_artifact("shards", distributed_id="daily")
        assert v1.created and v1.version == 1


def test_finish_with_an_artifact_upserts_its_files_first(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    with client(fake_gateway) as c:
        c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        last = shard(tmp_path, 1)
        last.metadata = {"from": "artifact"}
        last.description = "all shards"
        v = c.finish_artifact(last, distributed_id="run-1", tags=["raw"], label="full")
        assert v.created and v.file_count == 7 and v.files_uploaded == 3
        assert (v.metadata, v.description, v.tags, v.label) == ({"from": "artifact"}, "all shards", ("raw",), "full")
        # Explicit metadata/description win over the artifact's.
        other = Artifact("other", metadata={"a": 1}, description="artifact's")
        (tmp_path / "x.txt").write_text("x")
        other.add_file(tmp_path / "x.txt")
        v2 = c.finish_artifact(other, distributed_id="run-2", metadata={"b": 2}, description="given")
        assert (v2.name, v2.metadata, v2.description, v2.file_count) == ("other", {"b": 2}, "given", 1)


def test_finish_errors(fake_gateway: FakeGateway) -> None:
    with client(fake_gateway) as c:
        with pytest.raises(NotFound, match="nothing was upserted"):
            c.finish_artifact("shards", distributed_id="never")
        calls = sum(fake_gateway.state.calls.values())
        for bad in ("shards:v0", "a/b/c", "bad name"):
            with pytest.raises(InvalidArgument):
                c.finish_artifact(bad, distributed_id="x")
        with pytest.raises(InvalidArgument, match="distributed id"):
            c.finish_artifact("shards", distributed_id="no spaces")
        with pytest.raises(InvalidArgument, match="distributed id"):
            c.upsert_artifact(Artifact("shards"), distributed_id="")
        with pytest.raises(InvalidArgument, match="metadata"):
            c.finish_artifact("shards", distributed_id="x", metadata={"x": {1, 2}})
        with pytest.raises(InvalidArgument, match="reserved"):
            c.finish_artifact("shards", distributed_id="x", aliases=["v1"])
        assert sum(fake_gateway.state.calls.values()) == calls  # all refused before sending


def test_empty_upsert_opens_the_draft(fake_gateway: FakeGateway) -> None:
    with client(fake_gateway) as c:
        r = c.upsert_artifact(Artifact("shards"), distributed_id="run-1")
        assert r.file_count == 0 and r.draft_id
        assert fake_gateway.state.upserts == [(0, False, False)]
        assert [d.draft_id for d in c.drafts()] == [r.draft_id]


def test_upserts_are_batched_and_only_the_first_batch_starts_new(
    fake_gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert_mod, "ADD_FILES_MAX_ENTRIES", 50)
    d = tmp_path / "many"
    d.mkdir()
    for i in range(103):
        (d / f"f{i:05d}.txt").write_text(str(i))
    art = Artifact("many")
    art.add_dir(d)
    with client(fake_gateway) as c:
        r = c.upsert_artifact(art, distributed_id="big", start_new=True, overwrite=True)
    assert r.file_count == 103
    assert fake_gateway.state.upserts == [(50, True, True), (50, True, False), (3, True, False)]


def test_transient_failures_are_retried(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    st = fake_gateway.state
    st.fail("FindMissingBlobs", "DEADLINE_EXCEEDED")
    # The four small files travel as one pack (UploadBlobs).
    st.fail("UploadBlobs", "UNAVAILABLE", times=2)
    st.fail("UploadBlobs", "DEADLINE_EXCEEDED", after=True)  # stored, but the answer got lost
    st.fail("UpsertFiles", "UNAVAILABLE")
    st.fail("UpsertFiles", "DEADLINE_EXCEEDED", after=True)  # applied, then the answer got lost
    st.fail("UpsertFiles", "ABORTED")  # the server's "too much contention, try again"
    with client(fake_gateway) as c:
        r = c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        assert r.file_count == 4
        assert st.calls["FindMissingBlobs"] == 2 and st.calls["UpsertFiles"] == 4
        assert st.calls["UploadBlobs"] == 1 + 3 and st.calls["UploadBlob"] == 0
        st.fail("FinishDistributed", "UNAVAILABLE")
        st.fail("FinishDistributed", "DEADLINE_EXCEEDED", after=True)
        v = c.finish_artifact("shards", distributed_id="run-1")
        # The attempt that committed lost its answer: the retry gets the same, single version.
        assert st.calls["FinishDistributed"] == 3 and not v.created
        assert [x.version for x in c.versions("demo/shards")] == [0] and v.file_count == 4
    assert st.faults == {"FindMissingBlobs": [], "UploadBlobs": [], "UpsertFiles": [], "FinishDistributed": []}


def test_retries_are_bounded_by_the_retry_deadline(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    st = fake_gateway.state
    st.fail("UpsertFiles", "UNAVAILABLE", times=10_000)
    with Client(fake_gateway.address, project="demo", progress=False, retry_deadline=0.5) as c:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="UpsertFiles failed"):
            c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        took = time.monotonic() - started
    # Retried (with 1 ms base delays, many times) until the half second was spent, then given up
    # (the deadline's clock starts a moment before the first call: took was 0.396 s once in CI).
    assert st.calls["UpsertFiles"] > 5 and 0.3 < took < 3.0, (st.calls["UpsertFiles"], took)


def test_non_idempotent_calls_are_not_retried(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    st = fake_gateway.state
    with client(fake_gateway) as c:
        r = c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        st.fail("AbortDraft", "UNAVAILABLE")
        with pytest.raises(Unavailable):
            c.abort_draft(r.draft_id)
        assert st.calls["AbortDraft"] == 1


def test_the_deadline_of_idempotent_calls(fake_gateway: FakeGateway) -> None:
    assert AsyncClient(fake_gateway.address)._idempotent_timeout == rpc_mod.IDEMPOTENT_CALL_TIMEOUT == 60
    assert AsyncClient(fake_gateway.address, timeout=5)._idempotent_timeout == 5


def test_drafts_listing_and_abort(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    with client(fake_gateway) as c:
        assert c.drafts() == []
        r = c.upsert_artifact(shard(tmp_path, 0), distributed_id="stale")
        (d,) = c.drafts()
        assert isinstance(d, Draft)
        assert (d.draft_id, d.project, d.name, d.type, d.distributed_id, d.file_count) == (
            r.draft_id,
            "demo",
            "shards",
            "dataset",
            "stale",
            4,
        )
        assert d.created_at.tzinfo is not None and d.to_dict()["updated_at"].endswith("+00:00")
        assert c.drafts(idle_seconds=3600) == [] and c.drafts(project="other") == []
        with pytest.raises(InvalidArgument, match="idle_seconds"):
            c.drafts(idle_seconds=-1)
        c.abort_draft(d)
        assert c.drafts() == []
        with pytest.raises(FailedPrecondition):
            c.abort_draft(d.draft_id)
        with pytest.raises(InvalidArgument):
            c.abort_draft(" ")


async def test_async_client(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    async with AsyncClient(fake_gateway.address, project="demo", progress=False) as c:
        r = await c.upsert_artifact(shard(tmp_path, 0), distributed_id="run-1")
        assert r.file_count == 4
        assert [d.draft_id for d in await c.drafts()] == [r.draft_id]
        v = await c.finish_artifact(shard(tmp_path, 1), distributed_id="run-1")
        assert isinstance(v, AsyncArtifactVersion) and v.created and v.file_count == 7
        assert len([f async for f in v.files()]) == 7


def test_exports() -> None:
    assert {"Draft", "UpsertResult"} <= set(arkive.__all__)


# ---- CLI ----------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def gw_env(fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", fake_gateway.address)
    monkeypatch.delenv("ARKIVE_PROJECT", raising=False)
    return fake_gateway


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["upsert", "."], "required"),
        (["upsert", ".", "--name", "x"], "--distributed-id"),
        (["upsert", ".", "--name", "x", "--distributed-id", "bad id"], "invalid distributed id"),
        (["upsert", ".", "--name", "bad name", "--distributed-id", "d"], "invalid artifact name"),
        (["upsert", ".", "--name", "x", "--type", "a b", "--distributed-id", "d"], "invalid type"),
        (["finish", "x"], "--distributed-id"),
        (["finish", "x:v1", "--distributed-id", "d"], "without a version"),
        (["finish", "a/b/c", "--distributed-id", "d"], "invalid"),
        (["finish", "x", "--distributed-id", "d", "--metadata", "[1]"], "must be a JSON object"),
        (["finish", "x", "--distributed-id", "d", "--alias", "v2"], "reserved"),
        (["finish", "x", "--distributed-id", "d", "--label", "latest"], "reserved"),
        (["drafts", "--idle", "-5"], "non-negative"),
        (["drafts", "--idle", "soon"], "whole seconds"),
        (["drafts", "frobnicate"], "invalid choice"),
        (["drafts", "abort"], "DRAFT_ID"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", "127.0.0.1:1")  # must never be contacted
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert needle in one_error_line(err)


def test_cli_upsert_finish_drafts_json(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, tmp_path: Path) -> None:
    shard(tmp_path, 0)
    shard(tmp_path, 1)
    for w in (0, 1):
        code, out, err = run(
            capsys, "upsert", str(tmp_path / f"w{w}"), "--project", "demo", "--name", "shards",
            "--distributed-id", "run-7", "--json",
        )  # fmt: skip
        assert code == 0, err
    doc = json.loads(out)
    assert doc["file_count"] == 7 and doc["files_upserted"] == 4 and doc["files_uploaded"] == 3
    assert (doc["project"], doc["name"], doc["type"], doc["distributed_id"]) == ("demo", "shards", "dataset", "run-7")

    code, out, err = run(capsys, "drafts", "--project", "demo", "--json")
    assert code == 0, err
    drafts = json.loads(out)
    assert drafts["project"] == "demo" and drafts["idle_seconds"] == 0
    assert [(d["draft_id"], d["distributed_id"], d["file_count"]) for d in drafts["drafts"]] == [
        (doc["draft_id"], "run-7", 7)
    ]

    code, out, err = run(
        capsys, "finish", "demo/shards", "--distributed-id", "run-7", "--alias", "ready", "--tag", "raw",
        "--metadata", '{"workers": 2}', "--description", "two shards", "--label", "full", "--json",
    )  # fmt: skip
    assert code == 0, err
    v = json.loads(out)
    assert v["created"] is True and v["ref"] == "demo/shards:v0" and v["file_count"] == 7
    assert (v["metadata"], v["description"], v["tags"], v["label"]) == ({"workers": 2}, "two shards", ["raw"], "full")
    assert "ready" in v["aliases"]
    code, out, err = run(capsys, "finish", "shards", "-p", "demo", "--distributed-id", "run-7", "--json")
    assert code == 0 and json.loads(out)["created"] is False and json.loads(out)["version_id"] == v["version_id"]
    code, out, _ = run(capsys, "drafts", "--project", "demo", "--json")
    assert json.loads(out)["drafts"] == []


def test_cli_text_output_and_errors(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, tmp_path: Path) -> None:
    shard(tmp_path / "a", 0, shared=b"one")
    shard(tmp_path / "b", 1, shared=b"two")
    code, out, err = run(capsys, "upsert", str(tmp_path / "a" / "w0"), "--name", "shards", "--distributed-id", "r")
    assert code == 0 and err == ""
    assert out.startswith("upserted 4 files into default/shards (distributed id r, draft ")
    # A conflict is an error of the command: exit 1, one line naming the path.
    code, out, err = run(capsys, "upsert", str(tmp_path / "b" / "w1"), "--name", "shards", "--distributed-id", "r")
    assert code == 1 and out == ""
    assert one_error_line(err).startswith("error: FAILED_PRECONDITION: ") and "common.txt" in err
    code, out, err = run(
        capsys, "upsert", str(tmp_path / "b" / "w1"), "--name", "shards", "--distributed-id", "r", "--overwrite"
    )
    assert code == 0 and "7 files in the draft so far" in out

    code, out, _ = run(capsys, "drafts")
    assert code == 0 and "open drafts in project default" in out and "shards" in out
    code, out, _ = run(capsys, "drafts", "--idle", "3600")
    assert code == 0 and out.strip() == "no open drafts idle for at least 3600 s in project default"

    code, out, _ = run(capsys, "finish", "shards", "--distributed-id", "r", "--alias", "best")
    assert code == 0 and out.startswith("finished default/shards:v0 (distributed id r): 7 files")
    code, out, _ = run(capsys, "finish", "shards", "--distributed-id", "r")
    assert code == 0 and out.startswith("already finished: distributed id r is default/shards:v0")
    code, out, err = run(capsys, "finish", "shards", "--distributed-id", "nope")
    assert code == 1 and one_error_line(err).startswith("error: NOT_FOUND: ")


def test_cli_drafts_abort(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, tmp_path: Path) -> None:
    shard(tmp_path, 0)
    code, out, _ = run(capsys, "upsert", str(tmp_path / "w0"), "--name", "s", "--distributed-id", "r", "--json")
    draft_id = json.loads(out)["draft_id"]
    code, out, err = run(capsys, "drafts", "abort", draft_id, "--json")
    assert code == 0, err
    assert json.loads(out) == {"draft_id": draft_id, "aborted": True}
    code, out, err = run(capsys, "drafts", "abort", draft_id)
    assert code == 1 and out == "" and one_error_line(err).startswith("error: FAILED_PRECONDITION: ")
    code, out, err = run(capsys, "--json", "drafts", "abort", "d" * 32)
    assert code == 1 and out == ""
