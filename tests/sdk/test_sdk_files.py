"""Walking, hashing, manifests and safe destinations: pure local logic, no server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from arkive_core.manifest import manifest_digest

from arkive import Artifact, FailedPrecondition, InvalidArgument, NotFound
from arkive.engine.files import HashedFile, LocalFile, hash_file, hash_files, local_manifest_digest, walk_dir
from arkive.engine.paths import check_layout, safe_destination


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_add_dir_walks_nested_dirs_sorted(data_dir: Path) -> None:
    art = Artifact("mnist")
    assert art.add_dir(data_dir) == 5
    assert art.paths == [
        "README.md",
        "empty.txt",
        "test/labels.csv",
        "train/images/big.bin",
        "train/labels.csv",
    ]
    assert art.type == "dataset"


@pytest.mark.parametrize("prefix", ["raw", "raw/", "a/b/"])
def test_add_dir_name_prefix(data_dir: Path, prefix: str) -> None:
    art = Artifact("mnist")
    art.add_dir(data_dir / "train", name=prefix)
    want = prefix.rstrip("/")
    assert art.paths == [f"{want}/images/big.bin", f"{want}/labels.csv"]


def test_add_file_default_and_custom_name(data_dir: Path) -> None:
    art = Artifact("mnist")
    assert art.add_file(data_dir / "README.md") == "README.md"
    assert art.add_file(data_dir / "README.md", name="docs/readme.md") == "docs/readme.md"
    assert art.paths == ["README.md", "docs/readme.md"]


def test_last_add_wins(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    art = Artifact("x")
    art.add_file(a, name="same.txt")
    art.add_file(b, name="same.txt")
    assert [f.source for f in art.local_files()] == [b]


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../b", "C:\\x", "a\0b", "a//b", "./a", ""])
def test_invalid_names_refused(tmp_path: Path, bad: str) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    art = Artifact("x")
    with pytest.raises(InvalidArgument):
        art.add_file(f, name=bad)
    if bad:
        with pytest.raises(InvalidArgument):
            art.add_dir(tmp_path, name=bad)
    assert len(art) == 0


def test_file_name_with_backslash_on_disk_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "win\\name.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="backslash"):
        Artifact("x").add_dir(tmp_path / "d")


def test_undecodable_file_name_refused(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    try:
        (d / os.fsdecode(b"bad\xffname")).write_text("x")
    except (OSError, UnicodeEncodeError):
        pytest.skip("file system refuses non-UTF-8 names")
    with pytest.raises(InvalidArgument, match="UTF-8"):
        Artifact("x").add_dir(d)


def test_artifact_arguments_validated() -> None:
    with pytest.raises(InvalidArgument):
        Artifact("bad name")
    with pytest.raises(InvalidArgument):
        Artifact("ok", type="bad type")
    with pytest.raises(InvalidArgument, match="JSON"):
        Artifact("ok", metadata={"x": object()})
    with pytest.raises(InvalidArgument, match="larger"):
        Artifact("ok", metadata={"x": "y" * 70_000})


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        Artifact("x").add_dir(tmp_path / "nope")
    with pytest.raises(NotFound):
        Artifact("x").add_file(tmp_path / "nope")
    with pytest.raises(InvalidArgument):
        Artifact("x").add_file(tmp_path)


def test_symlink_policy(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "real.txt").write_text("real")
    (d / "inside_link.txt").symlink_to(d / "sub" / "real.txt")
    (d / "outside_link.txt").symlink_to(outside)
    (d / "dir_link").symlink_to(d / "sub")
    (d / "dangling").symlink_to(tmp_path / "missing")
    (d / "loop").symlink_to(d)
    files, skipped = walk_dir(d)
    assert [f.path for f in files] == ["inside_link.txt", "sub/real.txt"]
    reasons = {Path(p).name: why for p, why in skipped}
    assert set(reasons) == {"outside_link.txt", "dir_link", "dangling", "loop"}
    assert "outside" in reasons["outside_link.txt"]


def test_special_files_skipped(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    os.mkfifo(d / "fifo")
    (d / "a.txt").write_text("a")
    art = Artifact("x")
    assert art.add_dir(d) == 1
    assert art.skipped and art.skipped[0][1] == "not a regular file"


def test_hash_file_streams_and_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    seen: list[int] = []
    assert hash_file(f, on_bytes=seen.append) == (sha(data), len(data))
    assert seen == [1024 * 1024, 1024 * 1024, 5]
    e = tmp_path / "empty"
    e.write_bytes(b"")
    assert hash_file(e) == (sha(b""), 0)


async def test_hash_files_in_threads_and_manifest_agrees(data_dir: Path) -> None:
    art = Artifact("x")
    art.add_dir(data_dir)
    hashed = await hash_files(art.local_files())
    for h in hashed:
        data = h.source.read_bytes()
        assert (h.digest, h.size) == (sha(data), len(data))
    expected = manifest_digest((h.path, h.digest, h.size) for h in hashed)
    assert local_manifest_digest(hashed) == expected
    # Order of entries must not matter (the server sorts too).
    assert local_manifest_digest(list(reversed(hashed))) == expected


async def test_hash_files_mixed_sizes_keep_order_and_small_bytes_within_budget(tmp_path: Path) -> None:
    # Small files hash on their own thread, large ones on the pool: results still come back in
    # the order given, and only small files' bytes are kept, up to the budget.
    sizes = [10, 3 << 20, 20, 1 << 20, (1 << 20) + 1, 30, 40]
    files = []
    for i, n in enumerate(sizes):
        p = tmp_path / f"f{i}"
        p.write_bytes(os.urandom(n))
        files.append(LocalFile(f"f{i}", p))
    hashed = await hash_files(files, keep_bytes=(1 << 20) + 10 + 20)
    assert [h.path for h in hashed] == [f.path for f in files]
    for h in hashed:
        data = h.source.read_bytes()
        assert (h.digest, h.size) == (sha(data), len(data))
        assert h.stat is not None and h.stat[0] == len(data)
    kept = [h.path for h in hashed if h.data is not None]
    assert kept == ["f0", "f2", "f3"]  # f5, f6 fall outside the budget; f1, f4 are not small
    assert all(h.data == h.source.read_bytes() for h in hashed if h.data is not None)
    assert all(h.data is None for h in await hash_files(files))  # nothing is kept by default


def test_manifest_digest_known_value() -> None:
    # Pinned so that a change to the canonical form (which the server computes too) is noticed.
    files = [HashedFile("b.txt", Path("b"), sha(b"b"), 1), HashedFile("a.txt", Path("a"), sha(b"a"), 1)]
    text = f"a.txt\0{sha(b'a')}\0001\nb.txt\0{sha(b'b')}\0001\n"
    assert local_manifest_digest(files) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def test_hash_files_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await hash_files([LocalFile("x", tmp_path / "gone")])


# ---- safe destinations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["../x", "/etc/passwd", "a/../../b", "C:\\x", "C:x", "a\0b", "a/./b", "a//b", "", "a/", "x\n"]
)
def test_safe_destination_refuses_bad_paths(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        safe_destination(tmp_path, bad)


def test_safe_destination_accepts_nested(tmp_path: Path) -> None:
    assert safe_destination(tmp_path, "a/b/c.txt") == tmp_path.resolve() / "a" / "b" / "c.txt"


def test_safe_destination_refuses_symlinked_dir_pointing_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "evil").symlink_to(outside)
    with pytest.raises(FailedPrecondition, match="symlink"):
        safe_destination(root, "evil/x.txt")


def test_safe_destination_refuses_file_symlink_pointing_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "passwd").symlink_to(tmp_path / "target")  # dangling, outside
    with pytest.raises(FailedPrecondition):
        safe_destination(root, "passwd")


def test_safe_destination_allows_symlink_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real")
    assert safe_destination(root, "alias/x.txt").name == "x.txt"


def test_safe_destination_through_symlinked_root_is_fine(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert safe_destination(tmp_path / "link", "a.txt") == real.resolve() / "a.txt"


@pytest.mark.parametrize(
    "paths", [["a", "a"], ["a", "a/b"], ["a/b", "a"], ["x/y/z", "x/y"]], ids=["dup", "file-dir", "dir-file", "deep"]
)
def test_check_layout_refuses_conflicts(paths: list[str]) -> None:
    with pytest.raises(FailedPrecondition):
        check_layout(paths)


def test_check_layout_accepts_siblings() -> None:
    check_layout(["a/b", "a/c", "ab", "a.txt"])
