"""Garbage collection of packed blobs: a pack object stays while any blob in it is referenced and
goes once none is."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention
from .stores import stack_store

GRACE = 1.0


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def pack_upload(raw: RawRetention, blobs: list[bytes]) -> bpb.UploadBlobsResponse:
    async def messages():
        for data in blobs:
            yield bpb.UploadBlobsRequest(header=bpb.UploadBlobHeader(digest=digest_of(data), size=len(data)))
            yield bpb.UploadBlobsRequest(chunk=data)

    return await raw.blobs.UploadBlobs(messages())


async def test_pack_object_lives_while_any_member_is_referenced(raw, stack):
    project = unique()
    blobs = [f"{project} member {i}".encode() * 10 for i in range(3)]
    digests = [digest_of(b) for b in blobs]
    assert (await pack_upload(raw, blobs)).stored == 3
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="p", type="dataset"))
    keep = types_pb2.FileEntry(path="keep", digest=digests[0], size=len(blobs[0]))
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[keep]))
    version = (await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))).version
    conn = await asyncpg.connect(stack.database_url)
    try:
        key = await conn.fetchval("SELECT key FROM hashing_blobs WHERE digest = $1", digests[0])
        await asyncio.sleep(GRACE + 0.2)
        swept = await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=digests, skip_staging=True, confirm=True)
        )
        assert swept.blobs_deleted == 2
        missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=digests))
        assert set(missing.missing) == set(digests[1:])
        data = b"".join([m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digests[0]))])
        assert data == blobs[0]  # the pack object is still there for the member in use
        assert await conn.fetchval("SELECT count(*) FROM hashing_pending_deletes WHERE key = $1", key) == 0
        await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=version.version_id, purge=True, confirm=True))
        await asyncio.sleep(GRACE + 0.2)
        last = await raw.retention.CollectGarbage(
            rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=digests[:1], skip_staging=True, confirm=True)
        )
        assert last.blobs_deleted == 1
        assert await conn.fetchval("SELECT count(*) FROM hashing_blobs WHERE key = $1", key) == 0
        async with stack_store(stack) as store:
            assert not await store.exists(key)  # the emptied pack object is gone from S3
    finally:
        await conn.close()
