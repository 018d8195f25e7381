"""Downloading reference entries again and after a dropped connection, against real sources (S3
objects in the test SeaweedFS, a local HTTP server behind an allow-listing gateway, local files):
copies proven in place by their sha256 are kept, corrupt ones replaced, and a cut DownloadReference
stream resumes at its offset (the source asked for a Range) or, unpinned, starts over; a source
that changed meanwhile is still refused."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from arkive_core.errors import FailedPrecondition

import arkive

from .grpc_proxy import DropProxy, drop_proxy
from .refs_helpers import project, read_tree, s3_client

BIG = 3 * 1024 * 1024 + 12_345  # several gateway chunks (1 MiB), so a stream can be cut half-way


@pytest_asyncio.fixture(loop_scope="session")
async def proxied(allowed_gateway: str) -> AsyncIterator[tuple[str, DropProxy]]:
    async with drop_proxy(allowed_gateway) as pair:
        yield pair


def leftovers(root: Path) -> list[Path]:
    return list(root.rglob(".arkive-*"))


async def refused_when_changed_at_the_cut(
    client: arkive.AsyncClient, proxy: DropProxy, version: arkive.ArtifactVersion, change, dest: Path, name: str
) -> None:
    """The source changes while the stream is cut: the resumed download says so and leaves nothing."""
    proxy.drops, proxy.offsets, proxy.on_drop = 1, [], change
    try:
        with pytest.raises(FailedPrecondition, match="source changed"):
            await client.download(version, dest)
    finally:
        proxy.on_drop = None
    assert len(proxy.offsets) == 2 and proxy.offsets[1] > 0
    assert not (dest / name).exists() and leftovers(dest) == []


async def test_file_references_in_place_are_kept_and_corrupt_copies_replaced(stack, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    a, b = os.urandom(300_000), b"labels\n" * 100
    (src / "a.bin").write_bytes(a)
    (src / "b.txt").write_bytes(b)
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"an ordinary file " + uuid.uuid4().hex.encode())
    out = tmp_path / "out"
    async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
        art = arkive.Artifact("local-refs")
        art.add_reference((src / "a.bin").as_uri(), name="refs/a.bin")
        art.add_reference((src / "b.txt").as_uri(), name="refs/b.txt")
        art.add_file(plain, name="plain.txt")
        v = await client.log_artifact(art)
        want = {"refs/a.bin": a, "refs/b.txt": b, "plain.txt": plain.read_bytes()}

        first = await client.download(v, out)
        assert (first.files_written, first.files_skipped) == (3, 0)
        assert first.bytes_written == sum(map(len, want.values()))
        assert read_tree(out) == want

        second = await client.download(v, out)
        assert (second.files_written, second.bytes_written, second.files_skipped) == (0, 0, 3)
        assert second.bytes_downloaded == 0

        # "In place" is proven by the local copy's sha256, so the source is not even read again.
        (src / "a.bin").rename(src / "a.away")
        third = await client.download(v, out)
        assert (third.files_written, third.bytes_written, third.files_skipped) == (0, 0, 3)
        (src / "a.away").rename(src / "a.bin")

        (out / "refs" / "a.bin").write_bytes(bytes(x ^ 0xFF for x in a[:10]) + a[10:])  # same size
        (out / "refs" / "b.txt").write_bytes(b"truncated")
        fourth = await client.download(v, out)
        assert (fourth.files_written, fourth.bytes_written, fourth.files_skipped) == (2, len(a) + len(b), 1)
        assert read_tree(out) == want

        # A corrupt copy whose source changed too: refused, and nothing half-written is left.
        (out / "refs" / "b.txt").write_bytes(b"corrupt")
        (src / "b.txt").write_bytes(b"other labels")
        with pytest.raises(FailedPrecondition, match="source changed"):
            await client.download(v, out)
        assert (out / "refs" / "b.txt").read_bytes() == b"corrupt" and leftovers(out) == []


async def test_s3_and_http_references_without_sha256_are_fetched_every_time(proxied, http_server, stack, tmp_path):
    addr, _ = proxied
    bucket = "refd-" + uuid.uuid4().hex[:10]
    obj, page = os.urandom(50_000), b"page " * 1000
    http_server.files["again.bin"] = page
    out = tmp_path / "out"
    async with s3_client(stack.env) as s3, arkive.AsyncClient(addr, project(), progress=False) as client:
        await s3.create_bucket(Bucket=bucket)
        await s3.put_object(Bucket=bucket, Key="o.bin", Body=obj)
        art = arkive.Artifact("remote-refs")
        art.add_reference(f"s3://{bucket}/o.bin")
        art.add_reference(http_server.url("again.bin"))
        v = await client.log_artifact(art)
        assert {f.digest async for f in client.files(v)} == {""}  # only an ETag and a size are recorded
        for _ in range(2):  # nothing proves a local copy right, so the second time fetches again
            r = await client.download(v, out)
            assert (r.files_written, r.files_skipped) == (2, 0)
            assert r.bytes_written == r.bytes_downloaded == len(obj) + len(page)
        (out / "o.bin").write_bytes(b"x" * len(obj))
        await client.download(v, out)
        assert read_tree(out) == {"o.bin": obj, "again.bin": page}


async def test_dropped_s3_stream_resumes_at_its_offset(proxied, stack, tmp_path):
    addr, proxy = proxied
    bucket = "refr-" + uuid.uuid4().hex[:10]
    data = os.urandom(BIG)
    async with s3_client(stack.env) as s3, arkive.AsyncClient(addr, project(), progress=False) as client:
        await s3.create_bucket(Bucket=bucket)
        await s3.put_object(Bucket=bucket, Key="big.bin", Body=data)
        art = arkive.Artifact("s3-big")
        art.add_reference(f"s3://{bucket}/big.bin")
        v = await client.log_artifact(art)

        proxy.drops, proxy.offsets = 1, []
        r = await client.download(v, tmp_path / "a")
        assert (tmp_path / "a" / "big.bin").read_bytes() == data
        assert proxy.drops == 0 and len(proxy.offsets) == 2 and proxy.offsets[0] == 0
        assert 0 < proxy.offsets[1] < len(data)  # continued where the cut stream stopped
        assert r.files_written == 1 and r.bytes_written == r.bytes_downloaded == len(data)
        assert leftovers(tmp_path / "a") == []

        async def overwrite() -> None:
            await s3.put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(BIG))  # same size

        await refused_when_changed_at_the_cut(client, proxy, v, overwrite, tmp_path / "b", "big.bin")


async def test_dropped_http_stream_resumes_with_a_range_or_starts_over(proxied, http_server, tmp_path):
    addr, proxy = proxied
    strong, plain = os.urandom(BIG), os.urandom(BIG)
    http_server.files["strong.bin"] = strong
    http_server.files["plain.bin"] = plain
    http_server.no_etag.add("plain.bin")
    async with arkive.AsyncClient(addr, project(), progress=False) as client:
        art = arkive.Artifact("web-big")
        art.add_reference(http_server.url("strong.bin"))
        v = await client.log_artifact(art)
        proxy.drops, proxy.offsets, http_server.ranges = 1, [], []
        await client.download(v, tmp_path / "a")
        assert (tmp_path / "a" / "strong.bin").read_bytes() == strong
        assert len(proxy.offsets) == 2 and 0 < proxy.offsets[1] < len(strong)
        assert http_server.ranges == ["", f"bytes={proxy.offsets[1]}-"]  # the source sent only the rest

        # Without an ETag nothing pins the bytes at an offset: the download starts over.
        art = arkive.Artifact("web-plain")
        art.add_reference(http_server.url("plain.bin"))
        unpinned = await client.log_artifact(art)
        proxy.drops, proxy.offsets, http_server.ranges = 1, [], []
        await client.download(unpinned, tmp_path / "b")
        assert (tmp_path / "b" / "plain.bin").read_bytes() == plain
        assert proxy.offsets == [0, 0] and http_server.ranges == ["", ""]

        async def change() -> None:
            http_server.files["strong.bin"] = os.urandom(BIG)

        await refused_when_changed_at_the_cut(client, proxy, v, change, tmp_path / "c", "strong.bin")


async def test_dropped_http_stream_resumes_by_dropping_bytes_when_the_source_ignores_range(
    proxied, http_server, tmp_path
):
    """A source pinned by a strong ETag that ignores Range answers the resume with 200 and the whole
    body: the gateway drops the bytes before the offset itself, so nothing is sent twice."""
    addr, proxy = proxied
    data = os.urandom(BIG)
    http_server.files["norange.bin"] = data
    http_server.ignore_range.add("norange.bin")
    async with arkive.AsyncClient(addr, project(), progress=False) as client:
        art = arkive.Artifact("web-norange")
        art.add_reference(http_server.url("norange.bin"))
        v = await client.log_artifact(art)
        proxy.drops, proxy.offsets, http_server.ranges, http_server.ignored_ranges = 1, [], [], []
        r = await client.download(v, tmp_path / "a")
    assert (tmp_path / "a" / "norange.bin").read_bytes() == data
    assert len(proxy.offsets) == 2 and 0 < proxy.offsets[1] < len(data)  # resumed, not started over
    # The resume asked for the rest and was answered with everything: the read-and-drop path ran.
    assert http_server.ranges == ["", f"bytes={proxy.offsets[1]}-"]
    assert http_server.ignored_ranges == [f"bytes={proxy.offsets[1]}-"]
    assert r.files_written == 1 and r.bytes_written == r.bytes_downloaded == len(data)
    assert leftovers(tmp_path / "a") == []
