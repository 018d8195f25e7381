"""Distributed drafts over the gRPC contract: upserts from many workers, idempotent retries,
conflicts, finish exactly once, abandoned drafts."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import types_pb2

from .rawgrpc import Raw, digest_of, unique


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    yield client
    await client.close()


async def entry(raw: Raw, path: str, data: bytes) -> types_pb2.FileEntry:
    await raw.upload(data)
    return types_pb2.FileEntry(path=path, digest=digest_of(data), size=len(data))


def upsert(project: str, did: str, files, **kw) -> apb.UpsertFilesRequest:
    return apb.UpsertFilesRequest(project=project, name="shards", type="dataset", distributed_id=did, files=files, **kw)


async def code_of(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value.code(), info.value.details()


async def test_workers_upsert_concurrently_and_one_finish_commits_all(raw):
    project, did = unique(), "batch_42"
    shards = [[await entry(raw, f"w{w}/f{i}", f"{project} {w} {i}".encode()) for i in range(20)] for w in range(6)]
    replies = await asyncio.gather(*(raw.artifacts.UpsertFiles(upsert(project, did, s)) for s in shards))
    assert len({r.draft_id for r in replies}) == 1  # racing first upserts opened one draft
    # A retried upsert (same entries) adds nothing.
    again = await raw.artifacts.UpsertFiles(upsert(project, did, shards[0]))
    assert again.file_count == 120
    finishes = await asyncio.gather(
        *(
            raw.artifacts.FinishDistributed(
                apb.FinishDistributedRequest(project=project, name="shards", distributed_id=did, aliases=["ready"])
            )
            for _ in range(3)
        )
    )
    assert len({f.version.version_id for f in finishes}) == 1
    assert sorted(f.created for f in finishes) == [False, False, True]
    assert finishes[0].version.file_count == 120 and finishes[0].version.version == 0
    code, msg = await code_of(raw.artifacts.UpsertFiles(upsert(project, did, shards[0][:1])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "already finished as v0" in msg
    fresh = await raw.artifacts.UpsertFiles(upsert(project, did, shards[1][:1], start_new=True))
    assert fresh.draft_id != replies[0].draft_id and fresh.file_count == 1


async def test_conflicting_digest_on_one_path(raw):
    project, did = unique(), "conflict"
    first = await entry(raw, "same/path", b"one " + project.encode())
    second = await entry(raw, "same/path", b"two " + project.encode())
    await raw.artifacts.UpsertFiles(upsert(project, did, [first]))
    code, msg = await code_of(raw.artifacts.UpsertFiles(upsert(project, did, [second])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "same/path" in msg and first.digest in msg and second.digest in msg
    replaced = await raw.artifacts.UpsertFiles(upsert(project, did, [second], overwrite=True))
    assert replaced.file_count == 1
    done = await raw.artifacts.FinishDistributed(
        apb.FinishDistributedRequest(project=project, name="shards", distributed_id=did)
    )
    files = await raw.artifacts.ListFiles(apb.ListFilesRequest(ref=done.version.version_id))
    assert [(f.path, f.digest) for f in files.files] == [("same/path", second.digest)]


async def test_finish_without_upserts_and_file_folder_clash(raw):
    project = unique()
    code, _ = await code_of(
        raw.artifacts.FinishDistributed(apb.FinishDistributedRequest(project=project, name="x", distributed_id="none"))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    await raw.artifacts.UpsertFiles(upsert(project, "clash", [await entry(raw, "a", b"file a" + project.encode())]))
    await raw.artifacts.UpsertFiles(upsert(project, "clash", [await entry(raw, "a/b", b"file a/b" + project.encode())]))
    code, msg = await code_of(
        raw.artifacts.FinishDistributed(
            apb.FinishDistributedRequest(project=project, name="shards", distributed_id="clash")
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "'a' is a file" in msg


async def test_abandoned_drafts_are_listed_and_can_be_aborted(raw):
    project = unique()
    up = await raw.artifacts.UpsertFiles(upsert(project, "stale", [await entry(raw, "x", project.encode())]))
    listed = await raw.artifacts.ListDrafts(apb.ListDraftsRequest(project=project))
    assert [(d.draft_id, d.distributed_id, d.file_count) for d in listed.drafts] == [(up.draft_id, "stale", 1)]
    idle = await raw.artifacts.ListDrafts(apb.ListDraftsRequest(project=project, idle_seconds=3600))
    assert list(idle.drafts) == []
    await raw.artifacts.AbortDraft(apb.AbortDraftRequest(draft_id=up.draft_id))
    assert list((await raw.artifacts.ListDrafts(apb.ListDraftsRequest(project=project))).drafts) == []
    code, _ = await code_of(raw.artifacts.AbortDraft(apb.AbortDraftRequest(draft_id=up.draft_id)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    # After an abort the distributed id is free again without start_new: nothing was finished.
    again = await raw.artifacts.UpsertFiles(upsert(project, "stale", [await entry(raw, "y", b"y" + project.encode())]))
    assert again.draft_id != up.draft_id and again.file_count == 1
