"""Direct uploads against the real SeaweedFS: large files go from the client straight to S3 with a
presigned PUT; the storage verifies the sha256 and the gateway registers only what it verified.
A client that strips the checksum header or finishes an upload that never happened registers
nothing; a gateway with direct uploads off, or a client that cannot reach S3, streams instead."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import os
import urllib.parse
from pathlib import Path

import asyncpg
import grpc
import pytest

import arkive
import arkive._direct as direct_mod
from arkive_common.blobstore import BlobStore
from arkive_proto.v1 import blob_service_pb2 as bpb

from .rawgrpc import Raw, digest_of, unique
from .refs_helpers import extra_gateway

MiB = 1024 * 1024


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    yield client
    await client.close()


@pytest.fixture
async def db(stack):
    conn = await asyncpg.connect(stack.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def store(stack):
    env = stack.env
    async with BlobStore(
        env["ARKIVE_S3_ENDPOINT"],
        env["ARKIVE_S3_ACCESS_KEY"],
        env["ARKIVE_S3_SECRET_KEY"],
        env["ARKIVE_S3_BUCKET"],
        env["ARKIVE_S3_REGION"],
    ) as s:
        yield s


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


async def test_a_large_file_goes_straight_to_s3_and_downloads_identically(stack, db, store, tmp_path):
    data = os.urandom(9 * MiB + 3)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    assert v.files_uploaded == 1 and v.bytes_uploaded == len(data)
    assert await stored_checksum(db, store, digest_of(data)) == s3_checksum(data)  # the direct path ran


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


async def test_bytes_put_without_the_checksum_header_are_never_registered(raw):
    # The test S3 checks no signatures, so this client can leave the header out: the gateway must
    # still refuse, from what the storage reports, and keep the blob invisible.
    data = os.urandom(MiB)
    start = await raw.blobs.StartDirectUpload(bpb.StartDirectUploadRequest(digest=digest_of(data), size=len(data)))
    assert await asyncio.to_thread(put, start.url.split("?")[0] + "?x=1", os.urandom(MiB), {}) == 200
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


async def test_a_gateway_with_direct_uploads_off_streams_the_bytes(stack, db, store, tmp_path, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | stack.env
    log = tmp_path_factory.mktemp("gw") / "gateway-direct-off.log"
    async with extra_gateway(env, log, ARKIVE_DIRECT_UPLOADS="off") as addr:
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
    assert await stored_checksum(db, store, digest_of(data)) is None  # it came through the gateway


async def test_a_client_that_cannot_reach_s3_streams_the_bytes(stack, db, store, tmp_path, monkeypatch):
    real = direct_mod._put_blocking

    def unreachable(url: str, *args):
        return real("http://127.0.0.1:9/" + url.split("/", 3)[3], *args)  # the discard port: refused

    monkeypatch.setattr(direct_mod, "_put_blocking", unreachable)
    monkeypatch.setattr(direct_mod, "retry_delay", lambda attempt: 0.0)
    data = os.urandom(9 * MiB + 7)
    v = await log_big(stack.gateway_addr, tmp_path, data)
    assert v.bytes_uploaded == len(data)
    assert await stored_checksum(db, store, digest_of(data)) is None
