"""Chunk dedup against the real stack: the hashing service chunks large blobs, the SDK sends an
edited large file as its missing chunks plus ComposeBlob, composites download byte-identically,
survive a projection rebuild and GC, and a bad ComposeBlob registers nothing."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import asyncpg
import grpc
import pytest
from arkive_core import cdc
from support import assert_eventually

import arkive
from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as rpb

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention, code_of
from .stores import stack_store

MiB = 1024 * 1024
GRACE = 1.0


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def chunked(db: asyncpg.Connection, digest: str) -> int:
    """Waits until the hashing service has indexed the chunks of `digest`; returns how many."""

    async def count() -> int:
        n = await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE parent = $1", digest)
        assert n > 0
        return n

    return await assert_eventually(count, timeout=30)


async def download(raw, digest: str, offset: int = 0) -> bytes:
    req = bpb.DownloadBlobRequest(digest=digest, offset=offset)
    return b"".join([m.chunk async for m in raw.blobs.DownloadBlob(req)])


async def log_file(client: arkive.AsyncClient, path: Path, data: bytes):
    await asyncio.to_thread(path.write_bytes, data)
    art = arkive.Artifact("weights", "model")
    art.add_file(path, "weights.bin")
    return await client.log_artifact(art)


async def test_edits_send_only_changed_chunks_and_download_identically(stack, raw, db, tmp_path):
    project = unique()
    original = random.Random(1).randbytes(20 * MiB)
    middle = bytearray(original)
    middle[10 * MiB : 11 * MiB] = random.Random(2).randbytes(MiB)
    inserted = b"a header inserted at the start" * 40 + original
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        v0 = await log_file(client, tmp_path / "w.bin", original)
        assert v0.bytes_uploaded == len(original)  # brand-new data goes whole
        parts = await chunked(db, digest_of(original))
        assert parts == len(list(cdc.digest_chunks([original])))

        v1 = await log_file(client, tmp_path / "w.bin", bytes(middle))
        assert 0 < v1.bytes_uploaded <= MiB + 2 * cdc.MAX_SIZE  # the edit and its two borders
        v2 = await log_file(client, tmp_path / "w.bin", inserted)
        assert 0 < v2.bytes_uploaded <= 2 * cdc.MAX_SIZE  # a chunk or two at the start

        for version, data in ((v1, bytes(middle)), (v2, inserted)):
            key = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(data))
            assert key == "recipe:" + digest_of(data)
            got = await client.download(version, tmp_path / f"out-{version.version}")
            assert got.bytes_written == len(data)
            assert (tmp_path / f"out-{version.version}" / "weights.bin").read_bytes() == data
        # Resuming inside a composite starts at the right byte (mid-chunk).
        assert await download(raw, digest_of(inserted), 7 * MiB + 12345) == inserted[7 * MiB + 12345 :]


async def test_one_log_chunks_the_edited_file_and_sends_the_new_one_whole(stack, db, tmp_path):
    # The samples of every large file are asked in one call: each file must still get its own answer.
    project = unique()
    original = random.Random(31).randbytes(12 * MiB)
    edited = bytearray(original)
    edited[5 * MiB : 5 * MiB + 4096] = random.Random(32).randbytes(4096)
    fresh = random.Random(33).randbytes(9 * MiB)
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        await log_file(client, tmp_path / "w.bin", original)
        await chunked(db, digest_of(original))
        (tmp_path / "new").mkdir()
        await asyncio.to_thread((tmp_path / "new" / "a.bin").write_bytes, fresh)
        await asyncio.to_thread((tmp_path / "new" / "weights.bin").write_bytes, bytes(edited))
        art = arkive.Artifact("weights", "model")
        art.add_dir(tmp_path / "new")
        v1 = await client.log_artifact(art)
    assert v1.files_uploaded == 2
    assert len(fresh) < v1.bytes_uploaded <= len(fresh) + 2 * cdc.MAX_SIZE + 4096
    composite = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(bytes(edited)))
    whole = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(fresh))
    assert composite == "recipe:" + digest_of(bytes(edited)) and not whole.startswith("recipe:")


async def test_compose_refuses_bad_recipes_and_registers_nothing(raw, db):
    data = random.Random(3).randbytes(5 * MiB)
    await raw.upload(data)
    await chunked(db, digest_of(data))
    chunks = list(cdc.digest_chunks([data]))
    digests = [d for d, _, _ in chunks]
    head = data[: sum(s for _, s, _ in chunks[:3])]  # a new blob made of three stored chunks

    async def compose(digest: str, size: int, parts: list[str]) -> bpb.ComposeBlobResponse:
        return await raw.blobs.ComposeBlob(iter([bpb.ComposeBlobRequest(digest=digest, size=size, chunks=parts)]))

    wrong = digest_of(b"not these bytes")
    code, msg = await code_of(compose(wrong, len(head), digests[:3]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "digest mismatch" in msg
    code, msg = await code_of(compose(digest_of(head), len(head) + 1, digests[:3]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "bytes" in msg
    unknown = digest_of(b"never uploaded " + data[:10])
    code, msg = await code_of(compose(digest_of(head), len(head), [digests[0], unknown, digests[2]]))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and unknown in msg
    code, _ = await code_of(compose(digest_of(head), len(head), [digests[0], "sha256:xyz"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[digest_of(head), wrong]))
    assert set(missing.missing) == {digest_of(head), wrong}
    assert await db.fetchval("SELECT count(*) FROM hashing_recipes WHERE digest = $1", digest_of(head)) == 0

    ok = await compose(digest_of(head), len(head), digests[:3])
    assert not ok.already_present
    assert await download(raw, digest_of(head)) == head
    # DownloadBlobs follows the recipe too, next to an ordinary (chunk) blob.
    got: dict[str, bytearray] = {}
    current = ""
    async for msg in raw.blobs.DownloadBlobs(bpb.DownloadBlobsRequest(digests=[digests[4], digest_of(head)])):
        kind = msg.WhichOneof("payload")
        if kind == "header":
            current = msg.header.digest
            got[current] = bytearray()
        elif kind == "chunk":
            got[current] += msg.chunk
        else:  # whole blobs inline
            got.update((b.digest, bytearray(b.data)) for b in msg.blobs.blobs)
    assert got == {digest_of(head): head, digests[4]: data[chunks[4][2] : chunks[4][2] + chunks[4][1]]}
    again = await compose(digest_of(head), len(head), digests[:3])
    assert again.already_present


async def test_chunk_index_and_recipes_survive_a_rebuild(stack, raw, db, tmp_path):
    data = random.Random(4).randbytes(6 * MiB)
    await raw.upload(data)
    await chunked(db, digest_of(data))
    composite = data[: 3 * MiB]
    chunks = list(cdc.digest_chunks([composite]))[:-1]  # all but the last are chunks of `data` too
    composite = composite[: sum(s for _, s, _ in chunks)]
    await raw.blobs.ComposeBlob(
        iter(
            [bpb.ComposeBlobRequest(digest=digest_of(composite), size=len(composite), chunks=[d for d, _, _ in chunks])]
        )
    )

    async def state() -> tuple[list, list]:
        rows = await db.fetch("SELECT * FROM hashing_blobs WHERE parent = $1 ORDER BY digest", digest_of(data))
        recipe = await db.fetch("SELECT * FROM hashing_recipes WHERE digest = $1 ORDER BY seq", digest_of(composite))
        return [tuple(r) for r in rows], [tuple(r) for r in recipe]

    before = await state()
    assert before[0] and len(before[1]) == len(chunks)
    await admin_grpc.AdminServiceStub(raw.channel).RebuildProjections(admin_pb.RebuildProjectionsRequest(confirm=True))
    assert await state() == before
    assert await download(raw, digest_of(composite)) == composite


async def test_gc_keeps_chunks_of_a_live_composite(stack, raw, db, tmp_path):
    project = unique()
    original = random.Random(5).randbytes(8 * MiB)
    edited = bytearray(original)
    edited[4 * MiB : 4 * MiB + 1000] = bytes(1000)
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        v0 = await log_file(client, tmp_path / "w.bin", original)
        await chunked(db, digest_of(original))
        v1 = await log_file(client, tmp_path / "w.bin", bytes(edited))
        assert v1.bytes_uploaded < MiB
    key = await db.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digest_of(original))
    chunk_digests = [r[0] for r in await db.fetch("SELECT digest FROM hashing_blobs WHERE key = $1", key)]
    scope = [digest_of(original), *chunk_digests]
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=v0.version_id, purge=True, confirm=True))
    await asyncio.sleep(GRACE + 0.2)
    for _ in range(2):  # the blob first, then the chunks it no longer keeps
        await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=scope, skip_staging=True, confirm=True)
        )
    assert await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE digest = $1", digest_of(original)) == 0
    kept = {r[0] for r in await db.fetch("SELECT digest FROM hashing_blobs WHERE key = $1", key)}
    used = {
        r[0] for r in await db.fetch("SELECT chunk_digest FROM hashing_recipes WHERE digest = $1", digest_of(edited))
    }
    assert kept == used & set(chunk_digests) and kept  # unused chunks went, recipe chunks stayed
    assert await download(raw, digest_of(edited)) == bytes(edited)

    # Once the composite goes too, its recipe, its chunks and finally the object go.
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=v1.version_id, purge=True, confirm=True))
    await asyncio.sleep(GRACE + 0.2)
    scope.append(digest_of(edited))
    for _ in range(2):
        await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=scope, skip_staging=True, confirm=True)
        )
    assert await db.fetchval("SELECT count(*) FROM hashing_recipes WHERE digest = $1", digest_of(edited)) == 0
    assert await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE key = $1", key) == 0
    async with stack_store(stack) as store:
        assert not await store.exists(key)


async def test_long_recipes_are_staged_and_split_into_events(stack):
    """A recipe longer than one bus message: parts staged, then BlobComposed events of <= 2,000
    chunks whose positions continue across parts (hashing's compose against the real database)."""
    import time
    import uuid

    from arkive_core.errors import FailedPrecondition

    from arkive_common import api, eventlog
    from arkive_common.events import BlobChunked
    from arkive_hashing import chunks as hashing_chunks

    tag = uuid.uuid4().hex
    parent = digest_of(tag.encode())
    fake = [(digest_of(f"{tag} {i}".encode()), 10 + i % 3, i * 20) for i in range(4500)]
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():  # as the chunk indexer records them
            events = [
                BlobChunked(
                    digest=parent,
                    key=f"blobs/test/{tag}",
                    chunks=fake[i : i + 2000],
                    part=i // 2000,
                    chunked_at=time.time(),
                )
                for i in range(0, len(fake), 2000)
            ]
            for e in events:
                await hashing_chunks.apply(conn, e)
            await eventlog.append(conn, [eventlog.Append("blob-" + parent[7:], events, None)])
        digests = [d for d, _, _ in fake]
        size = sum(s for _, s, _ in fake)
        composite = digest_of(f"{tag} composite".encode())
        upload = uuid.uuid4().hex
        with pytest.raises(FailedPrecondition):  # the last part alone: earlier parts are missing
            await hashing_chunks.compose(pool, api.ComposeBlob(upload, composite, size, 2500, digests[2500:], True))
        await hashing_chunks.compose(pool, api.ComposeBlob(upload, composite, size, 0, digests[:2500], False))
        await hashing_chunks.compose(pool, api.ComposeBlob(upload, composite, size, 2500, digests[2500:], True))
        rows = await pool.fetch(
            "SELECT seq, chunk_digest, size, pos FROM hashing_recipes WHERE digest = $1 ORDER BY seq", composite
        )
        assert [r["chunk_digest"] for r in rows] == digests
        positions = [0]
        for _, s, _ in fake[:-1]:
            positions.append(positions[-1] + s)
        assert [r["pos"] for r in rows] == positions
        parts = await pool.fetch(
            "SELECT data FROM events WHERE stream_id = $1 AND type = 'BlobComposed' ORDER BY stream_version",
            "blob-" + composite[7:],
        )
        assert len(parts) == 3
        page = await hashing_chunks.recipe(pool, api.RecipeQuery(composite, positions[3000] + 1, 10))
        assert [p for p, _ in page.chunks] == positions[3000:3010]
        assert await pool.fetchval("SELECT count(*) FROM hashing_compose_staging WHERE upload_id = $1", upload) == 0
    finally:
        await pool.close()
