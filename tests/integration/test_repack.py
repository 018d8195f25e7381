"""Repacking: a pack with 10 members of which GC removed 8 is rewritten; the 2 live blobs keep
their sha256 addresses, download byte-identically from the new object, the old object goes after
the read grace, and a rebuild of the read models restores the re-pointed index rows."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention
from .stores import stack_store
from .test_packs_gc import pack_upload

GRACE = 1.0


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def pack_with_two_live(raw: RawRetention) -> tuple[list[bytes], list[str], str]:
    """10 members in one pack; a version references members 3 and 7 (live: 20 % of the bytes)."""
    project = unique()
    blobs = [os.urandom(4096 + i) for i in range(10)]
    digests = [digest_of(b) for b in blobs]
    assert (await pack_upload(raw, blobs)).stored == 10
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="p", type="dataset"))
    files = [types_pb2.FileEntry(path=f"f{i}", digest=digests[i], size=len(blobs[i])) for i in (3, 7)]
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=files))
    version = (await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))).version
    return blobs, digests, version.version_id


async def download(raw: RawRetention, digest: str) -> bytes:
    return b"".join([m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest))])


async def download_many(raw: RawRetention, digests: list[str]) -> dict[str, bytes]:
    out: dict[str, bytearray] = {}
    current = ""
    async for m in raw.blobs.DownloadBlobs(bpb.DownloadBlobsRequest(digests=digests)):
        kind = m.WhichOneof("payload")
        if kind == "header":
            current = m.header.digest
            out[current] = bytearray()
        elif kind == "chunk":
            out[current] += m.chunk
        else:  # whole blobs inline
            out.update((b.digest, bytearray(b.data)) for b in m.blobs.blobs)
    return {d: bytes(b) for d, b in out.items()}


async def rows(conn: asyncpg.Connection, digests: list[str]) -> dict[str, tuple[str, int]]:
    found = await conn.fetch("SELECT digest, key, pack_offset FROM hashing_blobs WHERE digest = ANY($1)", digests)
    return {r["digest"]: (r["key"], r["pack_offset"]) for r in found}


async def test_repack_moves_live_members_and_deletes_the_old_object(raw, stack):
    blobs, digests, version_id = await pack_with_two_live(raw)
    live = [digests[3], digests[7]]
    conn = await asyncpg.connect(stack.database_url)
    try:
        old_key = (await rows(conn, digests))[digests[0]][0]
        await asyncio.sleep(GRACE + 0.2)
        r = await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(
                grace_seconds=GRACE,
                digests=digests,
                skip_staging=True,
                repack=True,
                repack_read_grace_seconds=0,
                confirm=True,
            )
        )
        assert r.blobs_deleted == 8
        assert r.packs_repacked >= 1 and r.blobs_repacked >= 2 and r.repacked_objects_deleted >= 1
        moved = await rows(conn, digests)
        assert set(moved) == set(live)
        new_key = moved[live[0]][0]
        assert new_key != old_key and moved[live[1]][0] == new_key
        assert sorted(o for _, o in moved.values()) == [0, len(blobs[3])]  # packed tightly, in offset order
        assert await download(raw, live[0]) == blobs[3]
        assert await download(raw, live[1]) == blobs[7]
        assert await download_many(raw, live) == {live[0]: blobs[3], live[1]: blobs[7]}
        async with stack_store(stack) as store:
            assert not await store.exists(old_key)  # zero read grace: gone now
            assert await store.exists(new_key)
        assert await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'BlobsRepacked' AND stream_id = $1", "pack-" + new_key[12:]
        )

        reply = await admin_grpc.AdminServiceStub(raw.channel).RebuildProjections(
            admin_pb.RebuildProjectionsRequest(confirm=True)
        )
        assert any(x.service == "hashing" for x in reply.rebuilds)
        assert await rows(conn, digests) == moved  # the replay re-points them again
        size = await conn.fetchval("SELECT size FROM hashing_packs WHERE key = $1", new_key)
        assert size == len(blobs[3]) + len(blobs[7])
        assert await conn.fetchval("SELECT count(*) FROM hashing_packs WHERE key = $1", old_key) == 0

        # Moved blobs are still collected one by one; the new object goes with its last member.
        await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=version_id, purge=True, confirm=True))
        await asyncio.sleep(GRACE + 0.2)
        gone = await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=live, skip_staging=True, confirm=True)
        )
        assert gone.blobs_deleted == 2 and await rows(conn, live) == {}
        async with stack_store(stack) as store:
            assert not await store.exists(new_key)
    finally:
        await conn.close()


async def test_old_pack_stays_readable_for_the_read_grace(raw, stack):
    blobs, digests, _ = await pack_with_two_live(raw)
    conn = await asyncpg.connect(stack.database_url)
    try:
        old_key = (await rows(conn, digests))[digests[3]][0]
        await asyncio.sleep(GRACE + 0.2)
        gc = rpb.CollectGarbageRequest(
            grace_seconds=GRACE, digests=digests, skip_staging=True, repack=True, confirm=True
        )
        await raw.retention.CollectGarbage(gc)  # default read grace: one hour
        assert (await rows(conn, [digests[3]]))[digests[3]][0] != old_key
        async with stack_store(stack) as store:
            # A download that resolved the old location just before the switch still finds its bytes.
            data = b"".join([c async for c in store.read(old_key, 0, None)])
            offset = sum(len(b) for b in blobs[:3])
            assert data[offset : offset + len(blobs[3])] == blobs[3]
            gc.repack_read_grace_seconds = 0
            await raw.retention.CollectGarbage(gc)
            assert not await store.exists(old_key)
        assert await download(raw, digests[3]) == blobs[3]
    finally:
        await conn.close()


async def test_a_full_pack_is_left_alone(raw, stack):
    blobs = [os.urandom(2048) for _ in range(4)]
    digests = [digest_of(b) for b in blobs]
    await pack_upload(raw, blobs)
    conn = await asyncpg.connect(stack.database_url)
    try:
        before = await rows(conn, digests)
        await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=3600, digests=digests, skip_staging=True, repack=True, confirm=True)
        )
        assert await rows(conn, digests) == before  # every member live: nothing to gain
    finally:
        await conn.close()
