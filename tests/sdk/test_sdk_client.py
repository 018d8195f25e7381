"""The SDK's protocol against an in-memory gateway (sdk_fake_gateway): log, dedup, download."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway
from sdk_helpers import tree

import arkive
import arkive._convert as convert_mod
import arkive.engine.local as local_mod
from arkive import Artifact, ArtifactVersion, AsyncClient, Client
from arkive.engine.files import HashedFile
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import types_pb2


def test_log_then_download_roundtrip(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist", metadata={"rows": 70000, "ratio": 0.5}, description="digits")
        art.add_dir(data_dir)
        v = client.log_artifact(art, aliases=["best"], tags=["raw"], label="first")
        assert isinstance(v, ArtifactVersion)
        assert (v.project, v.name, v.version, v.ref) == ("demo", "mnist", 0, "demo/mnist:v0")
        assert v.created and v.file_count == 5
        assert v.total_size == sum(len(b) for b in tree(data_dir).values())
        assert v.files_uploaded == 4  # the two identical labels.csv share one blob
        assert v.metadata == {"rows": 70000, "ratio": 0.5} and isinstance(v.metadata["rows"], int)
        assert set(v.aliases) == {"best", "latest"} and v.tags == ("raw",) and v.label == "first"
        assert v.created_at.tzinfo is not None

        out = client.use_artifact("demo/mnist:best").download(tmp_path / "restored")
        assert out == tmp_path / "restored"
        assert tree(out) == tree(data_dir)
        assert [f.path for f in v.files()] == sorted(tree(data_dir))


def test_unchanged_relog_uploads_nothing_and_moves_aliases(fake_gateway: FakeGateway, data_dir: Path) -> None:
    st = fake_gateway.state
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir)
        v0 = client.log_artifact(art)
        uploads = st.calls["UploadBlob"] + st.calls["UploadBlobs"]
        assert uploads > 0
        again = Artifact("mnist")
        again.add_dir(data_dir)
        v = client.log_artifact(again, aliases=["prod"])
        assert not v.created and v.version == 0 and v.version_id == v0.version_id
        assert (v.bytes_uploaded, v.files_uploaded) == (0, 0)
        assert "prod" in v.aliases
        assert st.calls["UploadBlob"] + st.calls["UploadBlobs"] == uploads and st.calls["CreateDraft"] == 1
        assert st.calls["AssignAliases"] == 1
        client.log_artifact(again, aliases=["prod"])  # already has it: no AssignAliases
        assert st.calls["AssignAliases"] == 1


def test_new_version_uploads_only_changed_blobs(fake_gateway: FakeGateway, data_dir: Path) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir)
        client.log_artifact(art)
        (data_dir / "new.txt").write_text("new file")
        art2 = Artifact("mnist")
        art2.add_dir(data_dir)
        v1 = client.log_artifact(art2)
        assert v1.created and v1.version == 1
        assert (v1.files_uploaded, v1.bytes_uploaded) == (1, len("new file"))
        versions = client.versions("demo/mnist")
        assert [v.version for v in versions] == [1, 0]
        assert "latest" in client.get_version("demo/mnist").aliases
        assert client.get_version("mnist:v0").version == 0  # default project
        cols = client.artifacts(type="dataset")
        assert [(c.name, c.version_count, c.latest.version) for c in cols] == [("mnist", 2, 1)]
        assert client.artifacts(type="model") == []


def test_add_files_batches_respect_limits(
    fake_gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert_mod, "ADD_FILES_MAX_ENTRIES", 50)  # 5,000 is slow to exercise end to end
    d = tmp_path / "many"
    d.mkdir()
    for i in range(103):
        (d / f"f{i:05d}.txt").write_text(str(i))
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("many")
        art.add_dir(d)
        v = client.log_artifact(art)
    assert v.file_count == 103
    assert fake_gateway.state.add_files_sizes == [50, 50, 3]


def test_add_files_batches_by_count_and_bytes() -> None:
    assert convert_mod.ADD_FILES_MAX_ENTRIES == 5000  # the contract's limit
    digest = "sha256:" + "0" * 64
    small = [HashedFile(f"f{i}", Path("x"), digest, 1) for i in range(10_001)]
    assert [len(b) for b in convert_mod.add_files_batches(small)] == [5000, 5000, 1]
    # 1 KiB paths: 5,000 of them would be ~5.5 MB, over gRPC's default 4 MiB message limit.
    long = [HashedFile(f"{i:04d}" + "x" * 1000, Path("x"), digest, 1) for i in range(5000)]
    batches = convert_mod.add_files_batches(long)
    assert len(batches) > 2 and sum(map(len, batches)) == 5000
    for b in batches:
        msg = apb.AddFilesRequest(draft_id="d" * 32, files=b)
        assert msg.ByteSize() < 3 * 1024 * 1024


def test_empty_artifact_and_single_file(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    f = tmp_path / "model.pt"
    f.write_bytes(b"")
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("model", type="model")
        art.add(f)
        v = client.log_artifact(art)
        assert (v.file_count, v.total_size, v.type) == (1, 0, "model")
        out = v.download(tmp_path / "out")
        assert (out / "model.pt").read_bytes() == b""


def test_download_default_root_and_skip_existing(
    fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir)
        v = client.log_artifact(art)
        assert v.download() == Path("artifacts/mnist:v0")
        assert tree(tmp_path / "artifacts" / "mnist:v0") == tree(data_dir)
        (tmp_path / "artifacts" / "mnist:v0" / "README.md").write_text("locally edited")
        res = client.download("demo/mnist:v0")
        assert (res.files_written, res.files_skipped) == (1, 4)
        assert tree(res.path) == tree(data_dir)
        sub = client.download(v, tmp_path / "sub", path_prefix="train/")
        assert sorted(tree(sub.path)) == ["train/images/big.bin", "train/labels.csv"]
        leftovers = [p for p in (tmp_path / "artifacts").rglob(".arkive-*")]
        assert leftovers == []


def test_download_resumes_after_unavailable(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir)
        v = client.log_artifact(art)
        fake_gateway.state.fail_downloads = 1
        out = v.download(tmp_path / "r")
        assert tree(out) == tree(data_dir)
        assert fake_gateway.state.fail_downloads == 0


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/passwd", "a/../../b", "C:\\x", "a\0b"])
def test_download_refuses_hostile_paths(fake_gateway: FakeGateway, tmp_path: Path, bad: str) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("x")
        art.add_file(f)
        v = client.log_artifact(art)
        entry = next(iter(fake_gateway.state.files[v.version_id]))
        fake_gateway.state.file_override[v.version_id] = [
            types_pb2.FileEntry(path="ok.txt", digest=entry.digest, size=entry.size),
            types_pb2.FileEntry(path=bad, digest=entry.digest, size=entry.size),
        ]
        with pytest.raises(arkive.InvalidArgument, match="refusing"):
            v.download(tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "out" / "ok.txt").exists()  # refused before writing anything


def test_download_refuses_symlink_escape(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    d = tmp_path / "d" / "sub"
    d.mkdir(parents=True)
    (d / "x.txt").write_text("payload")
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(outside)
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("x")
        art.add_dir(tmp_path / "d")
        v = client.log_artifact(art)
        with pytest.raises(arkive.FailedPrecondition, match="symlink"):
            v.download(root)
    assert list(outside.iterdir()) == []


def test_corrupt_blob_from_server_is_not_written(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("good content")
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("x")
        art.add_file(f)
        v = client.log_artifact(art)
        digest = next(iter(fake_gateway.state.files[v.version_id])).digest
        fake_gateway.state.blobs[digest] = b"evil content"  # same size, wrong bytes
        with pytest.raises(arkive.ArkiveError, match="corrupt"):
            v.download(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_file_changed_after_hashing(fake_gateway: FakeGateway, tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "x.txt"
    f.write_text("before")
    real = local_mod.hash_files

    async def hash_then_edit(*args, **kwargs):
        out = await real(*args, **kwargs)
        f.write_text("after, and longer")
        return out

    monkeypatch.setattr(local_mod, "hash_files", hash_then_edit)
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("x")
        art.add_file(f)
        with pytest.raises(arkive.FailedPrecondition, match="changed"):
            client.log_artifact(art)


def test_errors_map_to_arkive_errors(fake_gateway: FakeGateway) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        with pytest.raises(arkive.NotFound):
            client.get_version("demo/nothing:v3")
        with pytest.raises(arkive.InvalidArgument):
            client.get_version("a/b/c")
        with pytest.raises(arkive.InvalidArgument):
            client.versions("demo/x:v1")
        assert client.rebuild_projections() == {"ingest": 7, "lineage": 3}


def test_unreachable_gateway_is_unavailable(tmp_path: Path) -> None:
    # The call waits for the gateway (wait_for_ready) until the retry deadline, then says why.
    with Client("127.0.0.1:1", project="demo", progress=False, timeout=5, retry_deadline=1) as client:
        with pytest.raises(arkive.Unavailable, match="cannot reach"):
            client.get_version("demo/x")
    with Client("127.0.0.1:1", project="demo", progress=False, retry_deadline=0) as client:
        with pytest.raises(arkive.Unavailable, match="cannot reach"):  # 0: one attempt, no waiting
            client.get_version("demo/x")


def test_closed_client_refuses_calls(fake_gateway: FakeGateway) -> None:
    client = Client(fake_gateway.address)
    client.close()
    client.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        client.get_version("demo/x")


def test_env_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", "10.0.0.1:1234")
    monkeypatch.setenv("ARKIVE_PROJECT", "envproj")
    with Client() as c:
        assert (c.address, c.project) == ("10.0.0.1:1234", "envproj")
    monkeypatch.delenv("ARKIVE_GATEWAY_ADDR")
    monkeypatch.delenv("ARKIVE_PROJECT")
    assert (AsyncClient().address, AsyncClient().project) == ("127.0.0.1:50051", "default")


async def test_async_client(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    async with AsyncClient(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir, name="data/")
        v = await client.log_artifact(art, aliases=["best"])
        assert v.created and v._client is client
        got = await client.use_artifact("demo/mnist:best")
        assert isinstance(got, arkive.AsyncArtifactVersion) and isinstance(got, ArtifactVersion)
        out = await got.download(tmp_path / "r")
        assert tree(out / "data") == tree(data_dir)
        assert len([f async for f in got.files()]) == 5
        assert await got.adownload(tmp_path / "r") == tmp_path / "r"
        cols = await client.artifacts()
        assert isinstance(cols[0].latest, arkive.AsyncArtifactVersion)
        assert [x.version for x in await client.versions("demo/mnist")] == [0]


async def test_sync_client_inside_running_loop(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    # What Jupyter does: a loop is already running in this thread; the blocking client still works.
    assert asyncio.get_running_loop().is_running()
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("mnist")
        art.add_dir(data_dir)
        v = client.log_artifact(art)
        # And its versions can be awaited from this loop too.
        out = await v.adownload(tmp_path / "r")
        assert tree(out) == tree(data_dir)


def test_files_iterator_pages_lazily(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    for i in range(30):
        (d / f"{i:02d}").write_bytes(os.urandom(10))
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("d")
        art.add_dir(d)
        v = client.log_artifact(art)
        it = v.files()
        first = next(it)
        assert first.path == "00"
        assert fake_gateway.state.calls["ListFiles"] == 1  # pages of 7: only one fetched so far
        rest = list(it)
        assert len(rest) == 29
        assert fake_gateway.state.calls["ListFiles"] == 5


def test_async_client_survives_a_new_event_loop(fake_gateway: FakeGateway) -> None:
    client = AsyncClient(fake_gateway.address, project="demo")
    with pytest.raises(arkive.NotFound):
        asyncio.run(client.get_version("x"))
    with pytest.raises(arkive.NotFound):  # not "attached to a different loop"
        asyncio.run(client.get_version("x"))
    asyncio.run(client.close())


def test_log_refuses_file_folder_conflict_before_upload(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    art = Artifact("x")
    art.add_file(f, name="a")
    art.add_file(f, name="a/b")
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        with pytest.raises(arkive.InvalidArgument, match="as a file and as a folder"):
            client.log_artifact(art)
    assert fake_gateway.state.calls["FindMissingBlobs"] == 0


def test_retry_deadline_from_argument_or_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARKIVE_RETRY_DEADLINE", raising=False)
    assert AsyncClient("127.0.0.1:1").retry_deadline == 60
    monkeypatch.setenv("ARKIVE_RETRY_DEADLINE", "2.5")
    assert AsyncClient("127.0.0.1:1").retry_deadline == 2.5
    assert AsyncClient("127.0.0.1:1", retry_deadline=0).retry_deadline == 0  # the argument wins
    monkeypatch.setenv("ARKIVE_RETRY_DEADLINE", "soon")
    with pytest.raises(arkive.InvalidArgument, match="ARKIVE_RETRY_DEADLINE"):
        AsyncClient("127.0.0.1:1")
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(arkive.InvalidArgument, match="retry deadline"):
            Client("127.0.0.1:1", retry_deadline=bad)
