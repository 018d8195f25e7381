"""checkout, verify, zip export and path_prefix against the fake gateway, with the traversal corpus:
whatever a (hostile) server lists, nothing is written, read or deleted outside the destination."""

from __future__ import annotations

import asyncio
import json
import os
import zipfile
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway
from sdk_helpers import tree

import arkive
from arkive import Artifact, Client, cli
from arkive_proto.v1 import types_pb2


def log_dir(client: Client, path: Path) -> arkive.ArtifactVersion:
    art = Artifact("ds")
    art.add_dir(path)
    return client.log_artifact(art)


@pytest.fixture
def client(fake_gateway: FakeGateway) -> Client:
    with Client(fake_gateway.address, project="demo", progress=False) as c:
        yield c  # type: ignore[misc]


def test_checkout_removes_what_the_version_lacks(client: Client, data_dir: Path, tmp_path: Path) -> None:
    v = log_dir(client, data_dir)
    root = tmp_path / "co"
    (root / "old" / "deeper").mkdir(parents=True)
    (root / "old" / "deeper" / "stale.txt").write_text("stale")
    (root / "train").mkdir()
    (root / "train" / "extra.csv").write_text("x")
    (root / "README.md").write_text("edited locally")
    (root / "keep-empty").mkdir()  # an empty folder we did not empty stays
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    os.symlink(outside, root / "link-out")  # a link pointing outside root: removed as a link
    r = client.checkout(v, root)
    assert tree(root) == tree(data_dir)
    assert sorted(r.files_removed) == ["link-out", "old/deeper/stale.txt", "train/extra.csv"]
    assert not (root / "old").exists()  # left empty by the removal
    assert (root / "keep-empty").is_dir()
    assert outside.read_text() == "precious"
    assert client.verify(v, root).clean


def test_checkout_replaces_empty_folders_where_the_version_has_a_file(
    client: Client, data_dir: Path, tmp_path: Path
) -> None:
    v = log_dir(client, data_dir)
    root = tmp_path / "co"
    (root / "README.md" / "empty" / "deeper").mkdir(parents=True)  # only folders: in the way, removed
    (root / "README.md" / "stale.txt").write_text("an extra, removed first")
    r = client.checkout(v, root)
    assert tree(root) == tree(data_dir)
    assert r.files_removed == ("README.md/stale.txt",)
    assert client.verify(v, root).clean


def test_checkout_with_prefix_only_manages_that_folder(client: Client, data_dir: Path, tmp_path: Path) -> None:
    v = log_dir(client, data_dir)
    root = tmp_path / "co"
    (root / "train").mkdir(parents=True)
    (root / "train" / "junk.txt").write_text("junk")
    (root / "mine.txt").write_text("not under the prefix")
    r = client.checkout(v, root, path_prefix="train/")
    assert r.files_removed == ("train/junk.txt",)
    assert tree(root) == {"mine.txt": b"not under the prefix", **{
        k: b for k, b in tree(data_dir).items() if k.startswith("train/")
    }}  # fmt: skip


def test_verify_reports_extra_missing_changed(client: Client, data_dir: Path, tmp_path: Path) -> None:
    v = log_dir(client, data_dir)
    root = tmp_path / "r"
    client.download(v, root)
    assert client.verify(v, root).clean
    (root / "README.md").write_text("# MNIST\n")  # same size, different bytes
    (root / "empty.txt").write_text("now longer")
    (root / "test" / "labels.csv").unlink()
    (root / "new.txt").write_text("extra")
    r = client.verify(v, root)
    assert not r.clean
    assert r.extra == ("new.txt",)
    assert r.missing == ("test/labels.csv",)
    assert r.changed == ("README.md", "empty.txt")
    assert r.files_checked == 5
    only_train = client.verify(v, root, path_prefix="train")
    assert only_train.clean and only_train.files_checked == 2
    assert client.verify(v, tmp_path / "nowhere").missing == tuple(sorted(tree(data_dir)))


def test_verify_cli_exit_codes(
    fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", fake_gateway.address)
    with Client(fake_gateway.address, project="demo", progress=False) as c:
        v = log_dir(c, data_dir)
    root = tmp_path / "r"
    assert cli.main(["checkout", v.ref, str(root)]) == 0
    assert cli.main(["verify", v.ref, str(root)]) == 0
    capsys.readouterr()
    (root / "stray\nname").write_text("x")
    assert cli.main(["verify", v.ref, str(root)]) == 1
    out = capsys.readouterr().out
    assert out == "extra\tstray\\nname\n"


def test_zip_export_is_byte_identical(client: Client, data_dir: Path, tmp_path: Path) -> None:
    v = log_dir(client, data_dir)
    out = tmp_path / "z" / "out.zip"
    r = client.download_zip(v, out)
    assert r.files_written == 5
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert {n: zf.read(n) for n in zf.namelist()} == tree(data_dir)
        assert zf.namelist() == sorted(tree(data_dir))
    again = client.download_zip(v, tmp_path / "again.zip", path_prefix="train")
    assert again.bytes_downloaded == 0 and again.files_from_cache == 2  # the cache serves zips too
    with zipfile.ZipFile(tmp_path / "again.zip") as zf:
        assert sorted(zf.namelist()) == ["train/images/big.bin", "train/labels.csv"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".arkive-")] == []


def test_path_prefix_is_a_folder_and_validated(client: Client, fake_gateway: FakeGateway, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x").write_text("x")
    (src / "a" / "bc").write_text("bc")
    v = log_dir(client, src)
    assert [f.path for f in client.files(v, path_prefix="a/b")] == ["a/b/x"]
    assert [f.path for f in client.files(v, path_prefix="a/bc/")] == ["a/bc"]
    for bad in ("../a", "/a", "a/../..", "a\0b"):
        with pytest.raises(arkive.InvalidArgument, match="path_prefix"):
            client.download(v, tmp_path / "o", path_prefix=bad)
    assert not (tmp_path / "o").exists()


# ---- traversal corpus ------------------------------------------------------------------------

HOSTILE = ["../x", "/etc/x", "a/../../x", "a\x00b", "..", "a/./b", "C:/x", "a\\..\\x", "ok/../../x"]


def serve(fake_gateway: FakeGateway, client: Client, tmp_path: Path, *paths: str) -> arkive.ArtifactVersion:
    """A version whose listing the server replaces with `paths`, all with the same small blob."""
    f = tmp_path / "blob.txt"
    f.write_text("payload")
    art = Artifact("hostile")
    art.add_file(f)
    v = client.log_artifact(art)
    entry = fake_gateway.state.files[v.version_id][0]
    fake_gateway.state.file_override[v.version_id] = [
        types_pb2.FileEntry(path=p, digest=entry.digest, size=entry.size) for p in ["ok.txt", *paths]
    ]
    return v


@pytest.mark.parametrize("bad", HOSTILE)
def test_traversal_corpus_refused_everywhere(
    client: Client, fake_gateway: FakeGateway, tmp_path: Path, bad: str
) -> None:
    v = serve(fake_gateway, client, tmp_path, bad)
    root = tmp_path / "root"
    root.mkdir()
    (root / "mine.txt").write_text("mine")
    before = sorted(p.name for p in tmp_path.iterdir())
    for action in (
        lambda: client.download(v, root),
        lambda: client.checkout(v, root),
        lambda: client.download_zip(v, tmp_path / "out.zip"),
        lambda: client.verify(v, root),
    ):
        with pytest.raises(arkive.InvalidArgument, match="refusing"):
            action()
    assert tree(root) == {"mine.txt": b"mine"}  # nothing written, nothing deleted
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no zip, no temp files, no x
    assert not Path("/etc/x").exists()


def test_percent_encoded_names_are_literal(client: Client, fake_gateway: FakeGateway, tmp_path: Path) -> None:
    # "%2e%2e" is a folder name like any other: never URL-decoded into "..".
    v = serve(fake_gateway, client, tmp_path, "%2e%2e/x", "%2E%2E%2Fy")
    root = tmp_path / "root"
    client.checkout(v, root)
    assert tree(root) == {"ok.txt": b"payload", "%2e%2e/x": b"payload", "%2E%2E%2Fy": b"payload"}
    assert not (tmp_path / "x").exists()
    client.download_zip(v, tmp_path / "o.zip")
    with zipfile.ZipFile(tmp_path / "o.zip") as zf:
        assert zf.namelist() == ["%2E%2E%2Fy", "%2e%2e/x", "ok.txt"]


def test_symlink_escape_in_destination_refused(client: Client, fake_gateway: FakeGateway, tmp_path: Path) -> None:
    v = serve(fake_gateway, client, tmp_path, "sub/x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("precious")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "sub")  # root/sub/x would land in outside/x
    with pytest.raises(arkive.FailedPrecondition, match="symlink"):
        client.download(v, root)
    assert (outside / "x").read_text() == "precious"
    assert not (root / "ok.txt").exists()
    # checkout removes the link itself (it is not in the version), then writes a real folder.
    r = client.checkout(v, root)
    assert "sub" in r.files_removed
    assert (outside / "x").read_text() == "precious" and sorted(os.listdir(outside)) == ["x"]
    assert not (root / "sub").is_symlink() and (root / "sub" / "x").read_text() == "payload"


def test_verify_and_checkout_never_walk_a_symlinked_prefix(
    client: Client, fake_gateway: FakeGateway, tmp_path: Path
) -> None:
    v = serve(fake_gateway, client, tmp_path, "sub/x")
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "y").write_text("precious")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "sub")
    r = client.verify(v, root, path_prefix="sub")
    assert r.extra == ("sub",) and r.missing == ("sub/x",)  # the link is reported, never entered
    with pytest.raises(arkive.FailedPrecondition, match="symlink"):
        client.verify(v, root, path_prefix="sub/deep")
    client.checkout(v, root, path_prefix="sub")
    assert (outside / "deep" / "y").read_text() == "precious"
    assert tree(root) == {"sub/x": b"payload"}


async def test_async_client_has_the_same_methods(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    async with arkive.AsyncClient(fake_gateway.address, project="demo", progress=False) as client:
        art = Artifact("ds")
        art.add_dir(data_dir)
        v = await client.log_artifact(art)
        # Two downloads of the same blobs at once share one cache without corrupting it.
        a, b = await asyncio.gather(client.download(v, tmp_path / "a"), client.download(v, tmp_path / "b"))
        assert a.files_written == b.files_written == 5
        assert tree(tmp_path / "a") == tree(tmp_path / "b") == tree(data_dir)
        (tmp_path / "a" / "extra.txt").write_text("x")
        assert (await client.verify(v, tmp_path / "a")).extra == ("extra.txt",)
        assert (await client.checkout(v, tmp_path / "a")).files_removed == ("extra.txt",)
        assert (await client.verify(v, tmp_path / "a")).clean
        z = await client.download_zip(v, tmp_path / "a.zip")
        assert z.files_written == 5 and z.bytes_downloaded == 0  # all copied from the downloads
        info = await client.cache_info()
        assert info.entries == 0  # downloads write each file once: no second copy in the blob cache
        assert (await client.cache_cleanup("0")).info.entries == 0
    c = arkive.cache_info()
    assert c.entries == 0 and c.path == Path(os.environ["ARKIVE_CACHE_DIR"])


def test_cli_usage_errors_and_cache_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["get", "demo/x:v0", "--zip", str(tmp_path / "a.zip"), "--out", str(tmp_path / "o")]) == 2
    assert "either --out or --zip" in capsys.readouterr().err
    assert cli.main(["cache", "cleanup", "-3"]) == 2
    capsys.readouterr()
    assert cli.main(["cache", "info", "--json"]) == 0  # no cache folder yet: empty, not an error
    doc = json.loads(capsys.readouterr().out)
    assert doc["entries"] == 0 and doc["enabled"] is True and doc["limit"] == 10 * 1024**3
    monkeypatch.setenv("ARKIVE_CACHE_SIZE", "lots")
    assert cli.main(["cache", "info"]) == 1
    assert "INVALID_ARGUMENT: ARKIVE_CACHE_SIZE: invalid size 'lots'" in capsys.readouterr().err
