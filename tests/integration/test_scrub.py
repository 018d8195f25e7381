"""Blob repair: a stored object overwritten behind arkive's back is found (by a download or a scrub),
leaves the content index, and the next log of the same bytes stores them again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from arkive_core.credentials import api_key
from arkive_core.errors import DataLoss

import arkive
from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc

from .stores import stack_store

ARKIVE = Path(sys.executable).with_name("arkive")
LARGE = 9 * 1024 * 1024 + 5  # above the 8 MiB pack limit: an object of its own


def _project() -> str:
    return "scrub" + uuid.uuid4().hex[:10]


def _dataset(root: Path) -> dict[str, bytes]:
    files = {"big.bin": os.urandom(LARGE), "small/a.txt": os.urandom(3000), "small/b.txt": os.urandom(5000)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


async def _where(stack: Any, digest: str) -> tuple[str, int] | None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        row = await conn.fetchrow("SELECT key, pack_offset FROM hashing_blobs WHERE digest = $1", digest)
    finally:
        await conn.close()
    return None if row is None else (row["key"], row["pack_offset"] or 0)


async def _overwrite(stack: Any, key: str, offset: int, length: int) -> None:
    """Flips the bytes [offset, offset + length) of the stored object, keeping its size."""
    async with stack_store(stack) as store:
        data = bytearray(b"".join([c async for c in store.read(key)]))
        data[offset : offset + length] = bytes(b ^ 0xFF for b in data[offset : offset + length])
        await store.put(key, bytes(data))


def _digest(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


async def test_a_corrupt_download_is_reported_and_the_next_log_repairs_it(stack: Any, tmp_path: Path) -> None:
    project = _project()
    files = _dataset(tmp_path / "data")
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        art = arkive.Artifact("ds")
        art.add_dir(tmp_path / "data")
        v0 = await client.log_artifact(art, project=project)
        big = _digest(files["big.bin"])
        where = await _where(stack, big)
        assert where is not None
        await _overwrite(stack, where[0], where[1] + 1000, 10)

        with pytest.raises(DataLoss, match="found the stored copy corrupt"):
            await client.download(v0.ref, tmp_path / "out1")
        assert await _where(stack, big) is None  # dropped from the index: it counts as missing now

        # The same content again: the server has the version, but not that blob any more.
        art = arkive.Artifact("ds")
        art.add_dir(tmp_path / "data")
        again = await client.log_artifact(art, project=project)
        assert again.version_id == v0.version_id and not again.created
        # Only what is gone travels: the chunk that held the damaged bytes (chunk dedup), not all 9 MiB.
        assert 0 < again.bytes_uploaded < LARGE
        assert await _where(stack, big) is not None
        await client.download(v0.ref, tmp_path / "out2")
        assert (tmp_path / "out2" / "big.bin").read_bytes() == files["big.bin"]


async def test_scrub_finds_a_corrupt_pack_member_and_keeps_its_sound_neighbours(stack: Any, tmp_path: Path) -> None:
    project = _project()
    files = _dataset(tmp_path / "data")
    a, b = _digest(files["small/a.txt"]), _digest(files["small/b.txt"])
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        art = arkive.Artifact("ds")
        art.add_dir(tmp_path / "data")
        v0 = await client.log_artifact(art, project=project)
        where_a, where_b = await _where(stack, a), await _where(stack, b)
        assert where_a is not None and where_b is not None
        assert where_a[0] == where_b[0], "both small files should share one pack object"
        await _overwrite(stack, where_a[0], where_a[1], 1)

        # One page that starts at exactly this pack object (the session's store holds other tests' blobs).
        async with grpc.aio.insecure_channel(stack.gateway_addr, interceptors=bearer_interceptors(api_key())) as ch:
            admin = adgrpc.AdminServiceStub(ch)
            page = await admin.ScrubBlobs(adpb.ScrubBlobsRequest(after_key=where_a[0][:-1], max_bytes=1))
            assert page.objects_checked == 1 and page.blobs_checked >= 2 and page.bytes_read > 0
            assert [(c.digest, c.key, c.reason) for c in page.corrupt] == [(a, where_a[0], "sha256 mismatch")]
            assert page.next_key  # more objects follow in the session's store
            # Scrubbing the same object again finds nothing: the corrupt row is gone, b is sound.
            again = await admin.ScrubBlobs(adpb.ScrubBlobsRequest(after_key=where_a[0][:-1], max_bytes=1))
            assert again.objects_checked == 1 and list(again.corrupt) == []
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await admin.ScrubBlobs(adpb.ScrubBlobsRequest(sample=-1))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await admin.ReportCorruptBlobs(adpb.ReportCorruptBlobsRequest(digests=["nope"]))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            # A report about a sound blob changes nothing: the server checks for itself.
            report = await admin.ReportCorruptBlobs(adpb.ReportCorruptBlobsRequest(digests=[b]))
            assert report.blobs_checked >= 1 and list(report.corrupt) == []
        assert await _where(stack, a) is None and await _where(stack, b) == where_b

        # A new artifact holding the same bytes uploads them again, which repairs v0 too.
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "copy.txt").write_bytes(files["small/a.txt"])
        art = arkive.Artifact("other")
        art.add_dir(tmp_path / "other")
        repaired = await client.log_artifact(art, project=project)
        assert repaired.bytes_uploaded == len(files["small/a.txt"])
        await client.download(v0.ref, tmp_path / "out")
        assert (tmp_path / "out" / "small" / "a.txt").read_bytes() == files["small/a.txt"]


def test_cli_scrub_sample_prints_one_json_document(stack: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    done = subprocess.run(
        [str(ARKIVE), "admin", "scrub", "--sample", "3", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    doc = json.loads(done.stdout)
    assert done.returncode == (1 if doc["corrupt"] else 0), done.stderr
    assert 1 <= doc["objects_checked"] <= 3 and doc["bytes_read"] > 0
    usage = subprocess.run([str(ARKIVE), "admin", "scrub", "--sample", "0"], capture_output=True, text=True, env=env)
    assert usage.returncode == 2 and "--sample" in usage.stderr
