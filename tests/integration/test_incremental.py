"""Incremental versions over raw gRPC: a draft started from a base version (CreateDraft base_ref),
RemoveFiles by path and folder prefix, and what the committed version then holds."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from support import assert_eventually

from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import types_pb2

from .rawgrpc import Raw, digest_of, unique
from .test_rebuild import PROCESSED_COLLECTION_EVENTS, snapshot


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    yield client
    await client.close()


async def status_of(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value.code(), info.value.details()


def base_files(project: str) -> dict[str, bytes]:
    """50 files: 40 under keep/, 5 under old/part/, and old/partition.txt, rm.txt, replace.txt, a, b."""
    files = {f"keep/{i:02d}.txt": f"keep {i} {project}".encode() for i in range(40)}
    files |= {f"old/part/{i}.bin": f"part {i} {project}".encode() for i in range(5)}
    for path in ("old/partition.txt", "rm.txt", "replace.txt", "a", "b"):
        files[path] = f"{path} {project}".encode()
    assert len(files) == 50
    return files


async def entries(raw: Raw, ref: str) -> dict[str, tuple[str, int]]:
    resp = await raw.artifacts.ListFiles(apb.ListFilesRequest(ref=ref, page_size=5000))
    return {f.path: (f.digest, f.size) for f in resp.files}


async def open_files(raw: Raw, project: str, draft_id: str) -> int:
    drafts = (await raw.artifacts.ListDrafts(apb.ListDraftsRequest(project=project))).drafts
    return next(d.file_count for d in drafts if d.draft_id == draft_id)


async def add(raw: Raw, draft_id: str, files: dict[str, bytes]) -> apb.AddFilesResponse:
    batch = []
    for path, data in files.items():
        await raw.upload(data)
        batch.append(types_pb2.FileEntry(path=path, digest=digest_of(data), size=len(data)))
    return await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft_id, files=batch))


async def test_based_draft_keeps_unchanged_entries_and_applies_the_delta(raw):
    project = unique()
    files = base_files(project)
    base = (await raw.log(project, "ds", files)).version
    # type may be empty with a base: the base's type is used
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds:latest"))
    assert await open_files(raw, project, draft.draft_id) == 50

    removed = await raw.artifacts.RemoveFiles(
        apb.RemoveFilesRequest(draft_id=draft.draft_id, paths=["rm.txt"], prefixes=["old/part"])
    )
    assert (removed.removed, removed.file_count) == (6, 44)  # "old/partition.txt" is not below "old/part"
    delta = {"replace.txt": b"replaced " + project.encode(), "new/1.txt": b"one", "new/2.txt": project.encode()}
    assert (await add(raw, draft.draft_id, delta)).file_count == 46
    done = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
    assert done.created and done.version.version == 1

    expected = {p: d for p, d in files.items() if p != "rm.txt" and not p.startswith("old/part/")} | delta
    got = await entries(raw, f"{project}/ds:v1")
    assert got == {p: (digest_of(d), len(d)) for p, d in expected.items()}
    assert done.version.file_count == 46 and done.version.total_size == sum(len(d) for d in expected.values())
    before = await entries(raw, base.version_id)
    assert all(got[p] == before[p] for p in expected if p not in delta)  # unchanged entries are shared

    # A base with nothing changed is the base's content: the existing version, nothing new.
    same = await raw.artifacts.CreateDraft(
        apb.CreateDraftRequest(project=project, name="ds", type="dataset", base_ref=base.version_id)
    )
    again = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=same.draft_id))
    assert (again.created, again.version.version_id) == (False, base.version_id)


async def test_bad_bases_are_refused_and_open_no_draft(raw):
    project = unique()
    await raw.log(project, "ds", {"x": project.encode()})
    await raw.log(project, "other", {"y": project.encode()})
    elsewhere = unique()
    await raw.log(elsewhere, "ds", {"x": project.encode()})
    cases = [
        ("ds", "other:latest", "", grpc.StatusCode.INVALID_ARGUMENT, "can only start from a version of"),
        ("ds", f"{elsewhere}/ds:v0", "", grpc.StatusCode.INVALID_ARGUMENT, "can only start from a version of"),
        ("ds", "ds:v7", "", grpc.StatusCode.NOT_FOUND, "no version v7"),
        ("ds", "nope:latest", "", grpc.StatusCode.NOT_FOUND, "not found"),
        ("ds", "0" * 32, "", grpc.StatusCode.NOT_FOUND, "no artifact version"),
        ("ds", "a/b/c", "", grpc.StatusCode.INVALID_ARGUMENT, "invalid ref"),
        ("ds", "ds:v0", "model", grpc.StatusCode.INVALID_ARGUMENT, "of type 'dataset'"),
        ("new", "ds:v0", "dataset", grpc.StatusCode.INVALID_ARGUMENT, "can only start from a version of"),
    ]
    for name, base_ref, type_, code, needle in cases:
        request = apb.CreateDraftRequest(project=project, name=name, type=type_, base_ref=base_ref)
        got, msg = await status_of(raw.artifacts.CreateDraft(request))
        assert (got, needle in msg) == (code, True), (base_ref, got, msg)
    assert not (await raw.artifacts.ListDrafts(apb.ListDraftsRequest(project=project))).drafts


async def test_remove_files_errors_change_nothing(raw):
    project = unique()
    await raw.log(project, "ds", base_files(project))
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds"))
    d = draft.draft_id
    cases = [
        (apb.RemoveFilesRequest(draft_id=d, paths=["rm.txt", "nope.txt"]), grpc.StatusCode.NOT_FOUND, "'nope.txt'"),
        (apb.RemoveFilesRequest(draft_id=d, paths=["old/part"]), grpc.StatusCode.NOT_FOUND, "'old/part'"),
        (apb.RemoveFilesRequest(draft_id=d, prefixes=["old/par"]), grpc.StatusCode.NOT_FOUND, "'old/par'"),
        (apb.RemoveFilesRequest(draft_id=d, prefixes=["keep", "zzz"]), grpc.StatusCode.NOT_FOUND, "'zzz'"),
        (apb.RemoveFilesRequest(draft_id=d, prefixes=["keep/"]), grpc.StatusCode.INVALID_ARGUMENT, "invalid path"),
        (apb.RemoveFilesRequest(draft_id=d, paths=["../a"]), grpc.StatusCode.INVALID_ARGUMENT, "invalid path"),
        (apb.RemoveFilesRequest(draft_id=d), grpc.StatusCode.INVALID_ARGUMENT, "nothing to remove"),
        (
            apb.RemoveFilesRequest(draft_id=d, paths=[f"keep/{i:02d}.txt" for i in range(40)] * 13),
            grpc.StatusCode.INVALID_ARGUMENT,
            "at most 500",
        ),
        (apb.RemoveFilesRequest(draft_id="0" * 32, paths=["a"]), grpc.StatusCode.NOT_FOUND, "not found"),
    ]
    for request, code, needle in cases:
        got, msg = await status_of(raw.artifacts.RemoveFiles(request))
        assert (got, needle in msg) == (code, True), (request, got, msg)
    assert await open_files(raw, project, d) == 50  # nothing was removed by any failed call

    # A prefix equal to a file's path removes that file.
    one = await raw.artifacts.RemoveFiles(apb.RemoveFilesRequest(draft_id=d, prefixes=["a", "a"]))
    assert (one.removed, one.file_count) == (1, 49)
    await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=d))
    code, msg = await status_of(raw.artifacts.RemoveFiles(apb.RemoveFilesRequest(draft_id=d, paths=["b"])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "already committed" in msg


async def test_layout_conflicts_with_base_entries_are_refused_at_commit(raw):
    project = unique()
    await raw.log(project, "ds", {"rm.txt": b"file " + project.encode(), "keep/1": b"1"})
    for path in ("rm.txt/below", "keep"):
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds"))
        await add(raw, draft.draft_id, {path: project.encode()})
        code, msg = await status_of(raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id)))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "is a file, so" in msg
    # Removing the base file first makes room for the folder.
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds"))
    await raw.artifacts.RemoveFiles(apb.RemoveFilesRequest(draft_id=draft.draft_id, paths=["rm.txt"]))
    await add(raw, draft.draft_id, {"rm.txt/below": b"now a folder"})
    done = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
    assert set(await entries(raw, done.version.version_id)) == {"rm.txt/below", "keep/1"}


async def test_rebuild_replays_based_drafts_identically(raw, stack):
    project = unique()
    conn = await asyncpg.connect(stack.database_url)
    try:
        await raw.log(project, "ds", base_files(project))
        committed = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds"))
        await raw.artifacts.RemoveFiles(apb.RemoveFilesRequest(draft_id=committed.draft_id, prefixes=["keep"]))
        await add(raw, committed.draft_id, {"replace.txt": b"v1 " + project.encode()})
        await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=committed.draft_id))
        # An open draft based on v1 (the draft-based version), with a removal: its entries are in the read model.
        pending = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", base_ref="ds:v1"))
        await raw.artifacts.RemoveFiles(apb.RemoveFilesRequest(draft_id=pending.draft_id, paths=["a", "b"]))
        await add(raw, pending.draft_id, {"c": b"c"})
        assert await open_files(raw, project, pending.draft_id) == 9  # 50 - 40 kept - 2 removed + 1

        async def consumers_caught_up():
            total = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'collection-%'")
            for consumer in ("lineage", "retention"):
                done = await conn.fetchval(PROCESSED_COLLECTION_EVENTS, consumer)
                assert done == total, consumer

        await assert_eventually(consumers_caught_up, timeout=20)
        before = await snapshot(conn)
        await admin_grpc.AdminServiceStub(raw.channel).RebuildProjections(
            admin_pb.RebuildProjectionsRequest(confirm=True)
        )
        after = await snapshot(conn)
        for table in before:
            assert after[table] == before[table], table
        rows = await conn.fetch("SELECT path FROM ingest_draft_entries WHERE draft_id = $1", pending.draft_id)
        assert sorted(r["path"] for r in rows) == sorted(
            ["c", "old/partition.txt", "replace.txt", "rm.txt", *(f"old/part/{i}.bin" for i in range(5))]
        )
    finally:
        await conn.close()
