"""GC racing commits at the lowest grace (0; the test stack's ARKIVE_GC_MIN_GRACE_SECONDS is 0):
200 commits, while sweeps run back to back over the commits' blobs and over garbage uploaded on
purpose, must never leave a committed version with a missing blob (issue 14)."""

from __future__ import annotations

import asyncio
import hashlib
import time

import asyncpg
import grpc
import pytest

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention
from .test_packs_gc import pack_upload

COMMITS = 200
GARBAGE = 120
IN_FLIGHT = 16
ATTEMPTS = 30


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def _commit(raw: RawRetention, project: str, i: int, data: bytes, refused: list[str]) -> str:
    """Uploads the blob and commits it, the way the SDK does: a blob a sweep deleted between the
    upload and the add is refused with FAILED_PRECONDITION, and then uploaded again."""
    entry = types_pb2.FileEntry(path=f"f{i}.bin", digest=digest_of(data), size=len(data))
    for _ in range(ATTEMPTS):
        await raw.upload(data)
        # 40 collections: commits to one collection also race each other, without endless retries.
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name=f"c{i % 40}", type="d"))
        try:
            if i % 4 == 1:  # both ways of adding files: AddFiles, then CommitDraft; or files with the commit
                await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry]))
                reply = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
            else:
                reply = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=[entry]))
            return reply.version.version_id
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.FAILED_PRECONDITION or entry.digest not in e.details():
                raise
            refused.append(e.details())
    raise AssertionError(f"commit {i} refused {ATTEMPTS} times")


async def _download(raw: RawRetention, digest: str) -> bytes:
    return b"".join([m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest))])


async def test_commits_racing_back_to_back_sweeps_never_lose_a_blob(raw, stack):
    project = unique("gcrace")
    files = [f"{project} file {i} ".encode() * 40 for i in range(COMMITS)]
    garbage = [f"{project} garbage {i} ".encode() * 40 for i in range(GARBAGE)]
    scope = sorted({digest_of(b) for b in files + garbage})  # sweeps touch only this test's blobs
    committing = True
    sweeps: list[rpb.CollectGarbageResponse] = []
    refused: list[str] = []

    async def sweep_back_to_back() -> None:
        while committing:
            request = rpb.CollectGarbageRequest(grace_seconds=0, digests=scope, skip_staging=True, confirm=True)
            sweeps.append(await raw.retention.CollectGarbage(request))

    async def upload_garbage() -> None:  # unreferenced blobs arriving during the race, 10 per pack
        for i in range(0, GARBAGE, 10):
            await pack_upload(raw, garbage[i : i + 10])
            await asyncio.sleep(0.05)

    limit = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> str:
        async with limit:
            return await _commit(raw, project, i, files[i], refused)

    started = time.monotonic()
    sweepers = [asyncio.create_task(sweep_back_to_back())]
    try:
        _, version_ids = await asyncio.gather(upload_garbage(), asyncio.gather(*(one(i) for i in range(COMMITS))))
    finally:
        committing = False
        await asyncio.gather(*sweepers)
    race_seconds = time.monotonic() - started
    swept_during_race = sum(s.blobs_deleted for s in sweeps)
    final = await raw.retention.CollectGarbage(
        rpb.CollectGarbageRequest(grace_seconds=0, digests=scope, skip_staging=True, confirm=True)
    )

    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT v.version_id, m.digest, b.digest IS NOT NULL AS indexed FROM ingest_versions v"
            " JOIN ingest_manifest_entries m ON m.manifest_digest = v.manifest_digest"
            " LEFT JOIN hashing_blobs b ON b.digest = m.digest WHERE v.project = $1",
            project,
        )
        garbage_left = await conn.fetchval(
            "SELECT count(*) FROM hashing_blobs WHERE digest = ANY($1::text[])", [digest_of(g) for g in garbage]
        )
    finally:
        await conn.close()
    assert len(set(version_ids)) == COMMITS and {r["version_id"] for r in rows} == set(version_ids)
    assert [r["digest"] for r in rows if not r["indexed"]] == []  # the content index still has every blob
    by_digest = {digest_of(f): f for f in files}
    for r in rows:  # and the bytes are there: every file of every version downloads and verifies
        data = await _download(raw, r["digest"])
        assert "sha256:" + hashlib.sha256(data).hexdigest() == r["digest"] and data == by_digest[r["digest"]]
    # Not vacuous: sweeps ran during the commits and deleted the garbage, the rest in the final one.
    assert len(sweeps) >= 4
    assert swept_during_race + final.blobs_deleted >= GARBAGE and garbage_left == 0
    assert swept_during_race > 0
    print(
        f"{COMMITS} commits in {race_seconds:.1f} s racing {len(sweeps)} sweeps that deleted {swept_during_race}"
        f" blobs (a sweep took {sum(s.seconds for s in sweeps) / len(sweeps):.2f} s on the server);"
        f" {len(refused)} adds refused (blob swept first) and retried"
    )
