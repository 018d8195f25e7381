"""Direct transfers against the real SeaweedFS. Uploads: large files go from the client straight to
S3 with a presigned PUT; the storage verifies the sha256 and the gateway registers only what it
verified; a client that strips the checksum header or finishes an upload that never happened
registers nothing; a gateway with direct transfers off, or a client that cannot reach S3, streams
instead. Downloads: large blobs are read with presigned ranged GETs and verified like any download;
a dropped or unreachable S3 hands over to DownloadBlob at the byte reached."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import os
import tracemalloc
import urllib.parse
from pathlib import Path

import asyncpg
import grpc
import pytest

import arkive
import arkive.engine.direct as direct_mod
import arkive.engine.direct_download as direct_download_mod
import arkive.engine.download as download_mod
from arkive_common.blobstore import BlobStore
from arkive_proto.v1 import blob_service_pb2 as bpb

from .rawgrpc import Raw, digest_of, unique
from .refs_helpers import extra_gateway
from .stores import stack_store

MiB = 1024 * 1024


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    yield client
    await client.close()


def put(url: str, body: bytes, headers: dict[str, str]) -> int:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("PUT", f"{parts.path}?{parts.query}", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


async def stored_checksum(db: asyncpg.Connection, store: BlobStore, digest: str) -> str | None:
    """The sha256 S3 keeps for the object of an indexed blob (only direct uploads send one)."""
    key = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest)
    head = await store.s3.head_object(Bucket=store.bucket, Key=key, ChecksumMode="ENABLED")
    return head.get("ChecksumSHA256")


def s3_checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


async def log_big(addr: str, tmp_path: Path, data: bytes) -> arkive.ArtifactVersion:
    (tmp_path / "w").mkdir(exist_ok=True)
    await asyncio.to_thread((tmp_path / "w" / "weights.bin").write_bytes, data)
    async with arkive.AsyncClient(addr, project=unique(), progress=False) as client:
        art = arkive.Artifact("weights", "model")
        art.add_dir(tmp_path / "w")
        v = await client.log_artifact(art)
        got = await client.download(v, tmp_path / "out")
    assert got.bytes_written == len(data)
    assert (tmp_path / "out" / "weights.bin").read_bytes() == data
    return v


async def test_a_large_file_goes_straight_to_s3_and_downloads_identically(stack, db, blob_store, tmp_path):
    data = os.urandom(9 * MiB + 3)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    assert v.files_uploaded == 1 and v.bytes_uploaded == len(data)
    assert await stored_checksum(db, blob_store, digest_of(data)) == s3_checksum(data)  # the direct path ran


async def test_the_storage_refuses_bytes_that_do_not_match_the_signed_checksum(raw):
    data = os.urandom(MiB)
    start = await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(data), size=len(data)))
    assert not start.already_present and start.url.startswith("http")
    other = os.urandom(MiB)
    assert await asyncio.to_thread(put, start.url, other, dict(start.headers)) == 400
    finish = bpb.FinishDirectUploadRequest(digest=digest_of(data), size=len(data), upload_id=start.upload_id)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await raw.blobs.FinishDirectUpload(finish)
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # nothing was stored at all
    assert await asyncio.to_thread(put, start.url, data, dict(start.headers)) == 200
    done = await raw.blobs.FinishDirectUpload(finish)
    assert done.digest == digest_of(data) and not done.already_present
    again = await raw.blobs.FinishDirectUpload(finish)  # a retried finish keeps the one copy
    assert again.already_present
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[digest_of(data)]))
    assert list(missing.missing) == []
    chunks = [m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest_of(data)))]
    assert b"".join(chunks) == data


async def test_bytes_put_without_the_checksum_header_are_never_registered(raw, stack):
    # The storage refuses an unsigned PUT (the launcher's S3 identity); one holding the S3 keys can
    # still write the upload's key without the checksum header: the gateway must refuse, from what
    # the storage reports, and keep the blob invisible.
    data = os.urandom(MiB)
    start = await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(data), size=len(data)))
    assert await asyncio.to_thread(put, start.url.split("?")[0] + "?x=1", os.urandom(MiB), {}) == 403
    key = urllib.parse.unquote(urllib.parse.urlsplit(start.url).path).split("/", 2)[2]  # /<bucket>/<key>
    async with stack_store(stack) as store:
        await store.put(key, os.urandom(MiB))
    finish = bpb.FinishDirectUploadRequest(digest=digest_of(data), size=len(data), upload_id=start.upload_id)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await raw.blobs.FinishDirectUpload(finish)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "nothing was registered" in e.value.details()
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[digest_of(data)]))
    assert list(missing.missing) == [digest_of(data)]


@pytest.mark.parametrize(
    ("digest", "size", "upload_id", "code"),
    [
        ("sha256:" + "0" * 63, 1, "0" * 32, grpc.StatusCode.INVALID_ARGUMENT),
        ("sha256:" + "0" * 64, -1, "0" * 32, grpc.StatusCode.INVALID_ARGUMENT),
        ("sha256:" + "0" * 64, 1, "../../packs/x", grpc.StatusCode.INVALID_ARGUMENT),
        ("sha256:" + "0" * 64, 1, "0" * 32, grpc.StatusCode.FAILED_PRECONDITION),  # never uploaded
    ],
)
async def test_bad_finishes_are_refused(raw, digest, size, upload_id, code):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        req = bpb.FinishDirectUploadRequest(digest=digest, size=size, upload_id=upload_id)
        await raw.blobs.FinishDirectUpload(req)
    assert e.value.code() == code


async def test_start_for_a_stored_blob_sends_nothing_and_checks_the_size(raw):
    data = os.urandom(1000)
    await raw.upload(data)
    start = await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(data), size=len(data)))
    assert start.already_present and not start.url
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(data), size=999))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_gateway_with_direct_transfers_off_streams_the_bytes(stack, db, blob_store, tmp_path, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | stack.env
    log = tmp_path_factory.mktemp("gw") / "gateway-direct-off.log"
    async with extra_gateway(env, log, ARKIVE_DIRECT_TRANSFERS="off") as addr:
        raw = Raw(addr)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(b"x"), size=1))
            assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        finally:
            await raw.close()
        data = os.urandom(9 * MiB + 5)
        v = await log_big(addr, tmp_path, data)
    assert v.bytes_uploaded == len(data)
    assert await stored_checksum(db, blob_store, digest_of(data)) is None  # it came through the gateway


async def test_a_client_that_cannot_reach_s3_streams_the_bytes(stack, db, blob_store, tmp_path, monkeypatch):
    real = direct_mod._put_blocking

    def unreachable(url: str, *args):
        return real("http://127.0.0.1:9/" + url.split("/", 3)[3], *args)  # the discard port: refused

    monkeypatch.setattr(direct_mod, "_put_blocking", unreachable)
    monkeypatch.setattr(direct_mod, "retry_delay", lambda attempt: 0.0)
    data = os.urandom(9 * MiB + 7)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    assert v.bytes_uploaded == len(data)
    assert await stored_checksum(db, blob_store, digest_of(data)) is None


# ---- direct downloads ------------------------------------------------------------------------


async def test_a_large_blob_downloads_straight_from_s3(stack, tmp_path, monkeypatch):
    data = os.urandom(9 * MiB + 11)
    v = await log_big(stack.gateway_addr, tmp_path, data)  # warm: the cache holds it now

    async def no_gateway(*args):
        raise AssertionError("the bytes came through DownloadBlob")

    monkeypatch.setattr(download_mod, "_receive", no_gateway)
    monkeypatch.setenv("ARKIVE_CACHE", "0")
    async with arkive.AsyncClient(stack.gateway_addr, project=v.project, progress=False) as client:
        got = await client.download(await client.use_artifact(v.ref), tmp_path / "direct")
    assert got.bytes_downloaded == len(data)
    assert (tmp_path / "direct" / "weights.bin").read_bytes() == data


async def test_urls_name_the_range_of_packed_blobs_and_leave_out_composites_and_unknowns(raw):
    small = [os.urandom(2000 + i) for i in range(3)]

    async def pack():
        for b in small:
            yield bpb.UploadBlobsRequest(header=bpb.UploadBlobHeader(digest=digest_of(b), size=len(b)))
            yield bpb.UploadBlobsRequest(chunk=b)

    await raw.blobs.UploadBlobs(pack())
    unknown = digest_of(os.urandom(10))
    resp = await raw.blobs.GetDownloadUrls(bpb.GetDownloadUrlsRequest(digests=[*map(digest_of, small), unknown]))
    assert [u.digest for u in resp.urls] == [digest_of(b) for b in small] and resp.expires_in_seconds > 0
    for u, b in zip(resp.urls, small, strict=True):
        got = await asyncio.to_thread(get_range, u.url, u.offset, u.size)
        assert got == b and u.size == len(b)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await raw.blobs.GetDownloadUrls(bpb.GetDownloadUrlsRequest(digests=["sha256:nope"]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_bytes_the_storage_changed_are_refused_not_written(stack, db, blob_store, tmp_path, monkeypatch):
    data = os.urandom(9 * MiB + 13)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    key = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(data))
    await blob_store.put(key, os.urandom(len(data)))  # the storage changed the bytes under the key
    monkeypatch.setenv("ARKIVE_CACHE", "0")
    async with arkive.AsyncClient(stack.gateway_addr, project=v.project, progress=False) as client:
        with pytest.raises(arkive.ArkiveError, match="corrupt"):
            await client.download(await client.use_artifact(v.ref), tmp_path / "bad")
    assert not (tmp_path / "bad" / "weights.bin").exists()
    assert [p.name for p in (tmp_path / "bad").iterdir()] == []  # no temp file left either


async def test_a_download_that_cannot_reach_s3_or_drops_goes_on_through_the_gateway(stack, tmp_path, monkeypatch):
    data = os.urandom(9 * MiB + 17)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    real = direct_download_mod._get_blocking
    calls: list[int] = []

    def drop_after_a_while(where, sink, progress, stop):
        calls.append(sink.received)
        if len(calls) == 1:  # the first GET loses its connection after 3 MiB
            cut = bpb.DownloadUrl(digest=where.digest, url=where.url, offset=where.offset, size=3 * MiB)
            real(cut, sink, progress, stop)
            raise ConnectionResetError("dropped")
        return real(
            bpb.DownloadUrl(url="http://127.0.0.1:9/x", digest=where.digest, size=where.size), sink, progress, stop
        )

    monkeypatch.setattr(direct_download_mod, "_get_blocking", drop_after_a_while)
    monkeypatch.setattr(direct_download_mod, "retry_delay", lambda attempt: 0.0)
    monkeypatch.setenv("ARKIVE_CACHE", "0")
    async with arkive.AsyncClient(stack.gateway_addr, project=v.project, progress=False) as client:
        got = await client.download(await client.use_artifact(v.ref), tmp_path / "mixed")
    assert calls[0] == 0 and calls[1] == 3 * MiB  # the retry resumed where the first GET stopped
    assert got.bytes_downloaded == len(data)  # nothing fetched twice: DownloadBlob went on from there
    assert (tmp_path / "mixed" / "weights.bin").read_bytes() == data


def get_range(url: str, offset: int, size: int) -> bytes:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers={"Range": f"bytes={offset}-{offset + size - 1}"})
        resp = conn.getresponse()
        assert resp.status == 206
        return resp.read()
    finally:
        conn.close()


# ---- parallel ranged downloads ---------------------------------------------------------------


@pytest.fixture
def small_ranges(monkeypatch):
    """Blobs from 8 MiB on read as odd-sized ranges on three connections (the sizes a test affords)."""
    monkeypatch.setattr(direct_download_mod, "PARALLEL_FROM", 8 * MiB)
    monkeypatch.setattr(direct_download_mod, "RANGE_BYTES", MiB + 7)
    monkeypatch.setattr(direct_download_mod, "RANGE_STREAMS", 3)
    monkeypatch.setattr(direct_download_mod, "retry_delay", lambda attempt: 0.0)
    monkeypatch.setenv("ARKIVE_CACHE", "0")


async def download_again(addr: str, v: arkive.ArtifactVersion, dest: Path) -> arkive.DownloadResult:
    async with arkive.AsyncClient(addr, project=v.project, progress=False) as client:
        return await client.download(await client.use_artifact(v.ref), dest)


async def test_a_large_blob_downloads_as_parallel_ranges(stack, tmp_path, monkeypatch, small_ranges):
    data = os.urandom(9 * MiB + 19)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    real = direct_download_mod._get_range
    offsets: list[int] = []

    def counted(where, fd, offset, length, progress, stop):
        offsets.append(offset)
        return real(where, fd, offset, length, progress, stop)

    async def no_gateway(*args):
        raise AssertionError("the bytes came through DownloadBlob")

    monkeypatch.setattr(direct_download_mod, "_get_range", counted)
    monkeypatch.setattr(download_mod, "_receive", no_gateway)
    got = await download_again(stack.gateway_addr, v, tmp_path / "ranges")
    assert sorted(offsets) == list(range(0, len(data), MiB + 7))  # every range asked once
    assert got.bytes_downloaded == len(data)
    assert (tmp_path / "ranges" / "weights.bin").read_bytes() == data


async def test_a_failed_range_is_asked_again_from_the_bytes_in_order(stack, tmp_path, monkeypatch, small_ranges):
    data = os.urandom(9 * MiB + 23)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    real = direct_download_mod._get_range
    bad = 4 * (MiB + 7)
    offsets: list[int] = []

    def fails_once(where, fd, offset, length, progress, stop):
        offsets.append(offset)
        if offset == bad and offsets.count(bad) == 1:
            real(where, fd, offset, length // 2, progress, stop)  # half of it written, then the connection drops
            raise ConnectionResetError("dropped")
        return real(where, fd, offset, length, progress, stop)

    monkeypatch.setattr(direct_download_mod, "_get_range", fails_once)
    got = await download_again(stack.gateway_addr, v, tmp_path / "retried")
    assert offsets.count(bad) == 2  # the retry went on from the first range not yet in, hashed in order
    assert (tmp_path / "retried" / "weights.bin").read_bytes() == data
    assert got.files_written == 1
    assert [p.name for p in (tmp_path / "retried").iterdir()] == ["weights.bin"]  # no temp file left


async def test_changed_bytes_in_one_range_are_refused_not_written(
    stack, db, blob_store, tmp_path, monkeypatch, small_ranges
):
    data = os.urandom(9 * MiB + 29)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    key = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(data))
    changed = bytearray(data)
    changed[5 * MiB] ^= 0xFF  # one byte in the middle of one range
    await blob_store.put(key, bytes(changed))
    with pytest.raises(arkive.ArkiveError, match="corrupt"):
        await download_again(stack.gateway_addr, v, tmp_path / "bad")
    assert [p.name for p in (tmp_path / "bad").iterdir()] == []  # neither the file nor a temp file


async def test_an_interrupted_download_leaves_no_file(stack, tmp_path, monkeypatch, small_ranges):
    data = os.urandom(9 * MiB + 31)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    real = direct_download_mod._get_range
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(where, fd, offset, length, progress, stop):
        loop.call_soon_threadsafe(started.set)
        if offset > 0:
            stop.wait(10)  # the later ranges hang until the download is cancelled
        return real(where, fd, offset, length, progress, stop)

    monkeypatch.setattr(direct_download_mod, "_get_range", slow)
    task = asyncio.ensure_future(download_again(stack.gateway_addr, v, tmp_path / "cut"))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()  # Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)  # the range threads notice the stop at their next block

    def left() -> list[str]:
        return [p.name for p in (tmp_path / "cut").iterdir()]

    for _ in range(50):
        if not left():
            break
        await asyncio.sleep(0.1)
    assert left() == []


async def test_parallel_ranges_hold_a_few_blocks_not_the_file(stack, tmp_path, small_ranges):
    data = os.urandom(24 * MiB + 37)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await download_again(stack.gateway_addr, v, tmp_path / "bounded")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "bounded" / "weights.bin").read_bytes() == data
    # Three connections with 1 MiB reads each, plus sha256's 1 MiB read-back: far below the file.
    assert peak < 10 * MiB, f"{peak / MiB:.1f} MiB held"
