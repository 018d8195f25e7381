"""The local blob cache (_cache.py) and the stat cache (_statcache.py), against the fake gateway."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway
from sdk_helpers import tree

import arkive
from arkive import Artifact, Client
from arkive.engine import files as _files
from arkive.engine import statcache as _statcache
from arkive.engine.cache import BlobCache, parse_size
from arkive.engine.files import LocalFile, hash_files


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def transfers(gw: FakeGateway) -> int:
    return gw.state.calls["DownloadBlob"] + gw.state.calls["DownloadBlobs"]


def log_dir(client: Client, path: Path, name: str = "ds") -> arkive.ArtifactVersion:
    art = Artifact(name)
    art.add_dir(path)
    return client.log_artifact(art)


@pytest.mark.parametrize(
    ("text", "n"),
    [("0", 0), (123, 123), ("500MB", 500_000_000), ("2GiB", 2 * 1024**3), ("1.5 gb", 1_500_000_000), ("10kib", 10240)],
)
def test_parse_size(text: str | int, n: int) -> None:
    assert parse_size(text) == n


@pytest.mark.parametrize("bad", ["", "-1", "10XB", "1e9", "GB", -5])
def test_parse_size_refuses_garbage(bad: str | int) -> None:
    with pytest.raises(arkive.InvalidArgument, match="invalid size"):
        parse_size(bad)


def test_second_download_comes_from_the_first(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        v = log_dir(client, data_dir)
        first = client.download(v, tmp_path / "a")
        assert first.files_from_cache == 0 and first.bytes_downloaded > 0
        before = transfers(fake_gateway)
        second = client.download(v, tmp_path / "b")
        info = client.cache_info()
    assert transfers(fake_gateway) == before  # not one blob asked from the server
    assert second.bytes_downloaded == 0
    assert second.files_from_cache == second.files_written == 5
    assert tree(tmp_path / "b") == tree(data_dir)
    # Written once: the first download kept no second copy in the blob cache, the second copied
    # (and hashed) the first one's files. Copies, never hard links.
    assert info.entries == 0
    big = tmp_path / "b" / "train" / "images" / "big.bin"
    assert big.stat().st_nlink == 1 and (tmp_path / "a" / "train" / "images" / "big.bin").stat().st_nlink == 1


def test_an_edited_download_is_not_copied_from(fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        v = log_dir(client, data_dir)
        client.download(v, tmp_path / "a")
        for rel in ("train/images/big.bin", "README.md"):  # one streamed, one batched file
            edited = tmp_path / "a" / rel
            with open(edited, "r+b") as f:  # edited in place: same inode, same size, other bytes
                f.write(b"edited!")
        r = client.download(v, tmp_path / "b")
        again = client.download(v, tmp_path / "c")
    assert tree(tmp_path / "b") == tree(data_dir)  # the edits reached neither the new download...
    big, readme = (len((data_dir / p).read_bytes()) for p in ("train/images/big.bin", "README.md"))
    assert r.bytes_downloaded == big + readme  # ...which fetched those two from the server
    assert r.files_from_cache == 3
    assert tree(tmp_path / "c") == tree(data_dir)  # the next one copies b's good files
    assert again.bytes_downloaded == 0 and again.files_from_cache == 5


def test_a_corrupt_cache_entry_is_dropped_and_downloaded_again(
    fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_STAT_CACHE", "0")  # no record of earlier downloads: only the blob cache
    cache = BlobCache.from_env()
    assert cache is not None
    for rel in ("train/images/big.bin", "README.md"):
        data = (data_dir / rel).read_bytes()
        cache.add_bytes(digest(data), bytes(len(data)))  # same size, wrong content
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        v = log_dir(client, data_dir)
        r = client.download(v, tmp_path / "b")
    assert tree(tmp_path / "b") == tree(data_dir)
    for rel in ("train/images/big.bin", "README.md"):
        assert cache.lookup(digest((data_dir / rel).read_bytes()), len((data_dir / rel).read_bytes())) is None
    assert r.files_from_cache == 0


def test_cache_disabled_writes_nothing(
    fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_CACHE", "0")
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        v = log_dir(client, data_dir)
        client.download(v, tmp_path / "a")
        r = client.download(v, tmp_path / "b")
        info = client.cache_info()
    assert r.files_from_cache == 0 and r.bytes_downloaded > 0
    assert not info.enabled and info.entries == 0
    assert not Path(os.environ["ARKIVE_CACHE_DIR"]).exists()


def test_lru_eviction_order_and_cleanup(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path / "c", limit=250)
    blobs = [bytes([i]) * 100 for i in range(3)]
    for i, b in enumerate(blobs):
        cache.add_bytes(digest(b), b)
        os.utime(cache.entry(digest(b)), (1000 + i, 1000 + i))  # type: ignore[arg-type]
    assert cache.lookup(digest(blobs[0]), 100) is not None  # a hit makes blob 0 the most recent
    assert cache.lookup(digest(blobs[0]), 99) is None  # a size mismatch is never a hit
    assert cache.cleanup() == (1, 100)  # over the 250-byte limit: the least recently used goes
    assert cache.lookup(digest(blobs[1]), 100) is None
    assert cache.lookup(digest(blobs[2]), 100) is not None
    assert cache.info().bytes == 200
    assert cache.cleanup(0) == (2, 200)
    assert cache.info().entries == 0


def test_download_keeps_the_cache_under_its_limit(
    fake_gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_CACHE_SIZE", "3MB")
    src = tmp_path / "src"
    src.mkdir()
    (src / "new.bin").write_bytes(os.urandom(1000))
    cache = BlobCache.from_env()
    assert cache is not None
    for _ in range(5):  # entries of earlier zip downloads, over the limit
        blob = os.urandom(1_000_000)
        cache.add_bytes(digest(blob), blob)
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        client.download(log_dir(client, src), tmp_path / "out")
        info = client.cache_info()
        assert info.limit == 3_000_000
        assert 0 < info.bytes <= 3_000_000 and info.entries == 3
        assert client.cache_cleanup("1MB").info.entries == 1
        r = client.cache_cleanup(0)
    assert r.entries_removed == 1 and r.info.entries == 0 and r.info.bytes == 0


def test_concurrent_writers_of_one_digest(tmp_path: Path) -> None:
    data = os.urandom(2_000_000)
    d = digest(data)

    def worker(i: int) -> None:
        cache = BlobCache(tmp_path / "c", limit=10**9)  # one object per "process"
        for _ in range(5):
            if i % 2:
                cache.add_bytes(d, data)
            else:
                w = cache.writer(len(data))
                assert w is not None
                for start in range(0, len(data), 300_000):
                    w.write(data[start : start + 300_000])
                w.commit(d)
            entry = cache.lookup(d, len(data))
            assert entry is not None and entry.read_bytes() == data  # never half a blob

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache = BlobCache(tmp_path / "c", limit=10**9)
    assert cache.info().entries == 1
    assert list((tmp_path / "c" / "tmp").iterdir()) == []  # no temp files left behind


# ---- stat cache ------------------------------------------------------------------------------


@pytest.fixture
def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Paths hash_files actually read."""
    seen: list[Path] = []
    real = _files.read_and_hash

    def counting(path: Path, *args: object, **kwargs: object) -> tuple[str, int, bytes | None, object]:
        seen.append(Path(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_files, "read_and_hash", counting)
    return seen


def hash_all(files: list[LocalFile]) -> dict[str, str]:
    return {h.path: h.digest for h in asyncio.run(hash_files(files))}


def test_unchanged_files_are_not_read_again(
    tmp_path: Path, count_reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_statcache, "RACY_NS", 0)  # files written a moment ago count as settled
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"aaaa")
    b.write_bytes(b"bbbb")
    files = [LocalFile("a.txt", a), LocalFile("b.txt", b)]
    first = hash_all(files)
    assert len(count_reads) == 2
    assert hash_all(files) == first
    assert len(count_reads) == 2  # both served by the stat cache

    # Same size, new content and mtime: re-hashed.
    st = a.stat()
    a.write_bytes(b"AAAA")
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    # Replaced by rename, mtime put back: the inode (and ctime) differ, so it is re-hashed too.
    st_b = b.stat()
    (tmp_path / "new").write_bytes(b"BBBB")
    os.replace(tmp_path / "new", b)
    os.utime(b, ns=(st_b.st_atime_ns, st_b.st_mtime_ns))
    assert hash_all(files) == {"a.txt": digest(b"AAAA"), "b.txt": digest(b"BBBB")}
    assert count_reads[2:] == [a, b]


def test_recently_changed_files_are_not_trusted(tmp_path: Path, count_reads: list[Path]) -> None:
    # With the default racy window, a file changed just now is re-read every time: a second write
    # within the same timestamp tick could otherwise keep its old digest.
    a = tmp_path / "a.txt"
    a.write_bytes(b"x")
    hash_all([LocalFile("a.txt", a)])
    hash_all([LocalFile("a.txt", a)])
    assert count_reads == [a, a]
    old = time.time() - 60
    os.utime(a, (old, old))  # ctime is still "now": still racy
    hash_all([LocalFile("a.txt", a)])
    assert len(count_reads) == 3


def test_a_broken_stat_cache_only_means_hashing(
    tmp_path: Path, count_reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_statcache, "RACY_NS", 0)
    db = Path(os.environ["ARKIVE_CACHE_DIR"]) / "stat.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    a = tmp_path / "a.txt"
    a.write_bytes(b"data")
    assert hash_all([LocalFile("a.txt", a)]) == {"a.txt": digest(b"data")}
    assert hash_all([LocalFile("a.txt", a)]) == {"a.txt": digest(b"data")}
    assert len(count_reads) == 2


def test_a_wrong_recorded_digest_is_not_used_after_a_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache is keyed on the full stat: rows for another stat never answer.
    monkeypatch.setattr(_statcache, "RACY_NS", 0)
    a = tmp_path / "a.txt"
    a.write_bytes(b"one")
    hash_all([LocalFile("a.txt", a)])
    db = sqlite3.connect(Path(os.environ["ARKIVE_CACHE_DIR"]) / "stat.sqlite")
    db.execute("UPDATE stat_cache SET digest = 'sha256:' || printf('%064d', 0)")
    db.commit()
    db.close()
    assert hash_all([LocalFile("a.txt", a)]) == {"a.txt": "sha256:" + "0" * 64}  # proves the cache is used
    a.write_bytes(b"two")
    assert hash_all([LocalFile("a.txt", a)]) == {"a.txt": digest(b"two")}


def test_relog_of_unchanged_folder_reads_no_file(
    fake_gateway: FakeGateway, data_dir: Path, count_reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_statcache, "RACY_NS", 0)
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        first = log_dir(client, data_dir)
        reads = len(count_reads)
        again = log_dir(client, data_dir)
        assert len(count_reads) == reads  # nothing hashed: every digest came from the stat cache
        assert not again.created and again.version_id == first.version_id
        (data_dir / "README.md").write_text("# MNIST\n")  # same size, new content
        changed = log_dir(client, data_dir)
    assert changed.created and changed.version == first.version + 1


def test_files_in_place_are_checked_through_the_stat_cache(
    fake_gateway: FakeGateway, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arkive.engine import place as _download  # prepare_destination hashes files in place

    monkeypatch.setattr(_statcache, "RACY_NS", 0)
    reads: list[Path] = []
    real = _download.hash_file
    monkeypatch.setattr(_download, "hash_file", lambda p, *a, **k: (reads.append(Path(p)), real(p, *a, **k))[1])
    with Client(fake_gateway.address, project="demo", progress=False) as client:
        v = log_dir(client, data_dir)
        out = tmp_path / "out"
        client.download(v, out)
        assert reads == []  # nothing was in place
        assert client.download(v, out).files_skipped == 5
        assert len(reads) == 5  # hashed once, and recorded
        assert client.download(v, out).files_skipped == 5
        assert len(reads) == 5  # the stat cache vouched for all of them
        (out / "README.md").write_text("# MNIST\n")  # same size, new content: re-read and replaced
        r = client.download(v, out)
    assert reads[5:] == [out.resolve() / "README.md"] and r.files_written == 1
    assert tree(out) == tree(data_dir)
