"""CommitDraft carrying the last files of a draft (CommitDraftRequest.files): the same checks as
AddFiles, in the commit's own step, so that a refused commit adds nothing either."""

from __future__ import annotations

import json

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


def entry(path: str, data: bytes) -> types_pb2.FileEntry:
    return types_pb2.FileEntry(path=path, digest=digest_of(data), size=len(data))


async def status_of(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value.code(), info.value.details()


async def files_of(raw: Raw, ref: str, pages: list[int] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    token = ""
    while True:
        resp = await raw.artifacts.ListFiles(apb.ListFilesRequest(ref=ref, page_size=5000, page_token=token))
        out.update((f.path, f.digest) for f in resp.files)
        if pages is not None:
            pages.append(len(resp.files))
        if not resp.next_page_token:
            return out
        token = resp.next_page_token


async def test_commit_adds_its_files_after_the_draft_entries(raw):
    project = unique()
    blobs = {name: f"{name} {project}".encode() for name in ("a", "b", "c")}
    for data in blobs.values():
        await raw.upload(data)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    assert draft.commit_takes_files
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry("a", blobs["a"])]))
    # "a" again with other bytes: the commit's entries come last, so they replace the draft's.
    files = [entry("a", blobs["c"]), entry("dir/b", blobs["b"])]
    done = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=files))
    assert done.created and done.version.file_count == 2
    assert await files_of(raw, done.version.version_id) == {"a": digest_of(blobs["c"]), "dir/b": digest_of(blobs["b"])}
    # A retried commit (its answer lost) gets the same answer, `created` included, and adds nothing.
    again = await raw.artifacts.CommitDraft(
        apb.CommitDraftRequest(draft_id=draft.draft_id, files=[entry("extra", blobs["a"])])
    )
    assert again.version.version_id == done.version.version_id and again.created  # the same answer
    assert again.version.file_count == 2


async def test_a_refused_commit_adds_none_of_its_files(raw):
    project = unique()
    good, ghost = f"good {project}".encode(), f"never uploaded {project}".encode()
    await raw.upload(good)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry("kept", good)]))

    def commit(files, **extra):
        return raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=files, **extra))

    code, msg = await status_of(commit([entry("new", good), entry("ghost", ghost)]))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not stored" in msg
    code, _ = await status_of(commit([entry("new", good), entry("../escape", good)]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    liar = types_pb2.FileEntry(path="liar", digest=digest_of(good), size=len(good) + 1)
    code, _ = await status_of(commit([entry("new", good), liar]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await status_of(commit([entry("new", good)], metadata_json=json.dumps([1, 2])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, msg = await status_of(commit([entry(f"f{i}", good) for i in range(5001)]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "5000" in msg
    # The draft is still open and holds only what AddFiles put there.
    done = await commit([])
    assert done.created
    assert await files_of(raw, done.version.version_id) == {"kept": digest_of(good)}


async def test_commit_files_beyond_one_bus_message(raw):
    """5,000 entries with long paths are more than one message to ingest: the gateway sends the
    first slices as AddFiles would and the last one with the commit; all of them are committed."""
    project = unique()
    data = f"shared {project}".encode()
    await raw.upload(data)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    paths = [f"{'deep/' * 30}{i:05d}.bin" for i in range(5000)]  # ~160 bytes a path, ~1 MiB in all
    files = [entry(p, data) for p in paths]
    done = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=files))
    assert done.created and done.version.file_count == 5000
    pages: list[int] = []
    listed = await files_of(raw, done.version.version_id, pages)
    assert sorted(listed) == sorted(paths) and set(listed.values()) == {digest_of(data)}
    # Asked for 5,000 a page, ListFiles answers in pages that fit one bus reply (it used to time out).
    assert len(pages) >= 2 and sum(pages) == 5000


async def test_versions_with_large_metadata_list_in_pages_that_fit_a_bus_reply(raw):
    """20 versions with ~60 KiB of metadata each are more than NATS' 1 MiB: ListVersions (and
    ListArtifacts, whose entries carry their latest version) answer in pages that fit, where one
    reply used to exceed the limit and time out."""
    project = unique()
    N = 20
    data = f"one blob {project}".encode()
    await raw.upload(data)
    for i in range(N):
        metadata = json.dumps({"i": i, "preview": "x" * 60_000})
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
        files = [entry(f"v{i}", data)]
        await raw.artifacts.CommitDraft(
            apb.CommitDraftRequest(draft_id=draft.draft_id, files=files, metadata_json=metadata)
        )
    seen, pages, token = [], 0, ""
    while True:
        resp = await raw.artifacts.ListVersions(
            apb.ListVersionsRequest(project=project, name="ds", page_size=100, page_token=token)
        )
        seen += [v.version for v in resp.versions]
        pages += 1
        if not resp.next_page_token:
            break
        token = resp.next_page_token
    assert seen == list(range(N - 1, -1, -1)) and pages >= 2
    for i in range(N):
        other = f"other{i:02d}"
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name=other, type="dataset"))
        metadata = json.dumps({"preview": "y" * 60_000})
        await raw.artifacts.CommitDraft(
            apb.CommitDraftRequest(draft_id=draft.draft_id, files=[entry("f", data)], metadata_json=metadata)
        )
    names, token = [], ""
    while True:
        resp = await raw.artifacts.ListArtifacts(
            apb.ListArtifactsRequest(project=project, page_size=100, page_token=token)
        )
        names += [a.name for a in resp.artifacts]
        if not resp.next_page_token:
            break
        token = resp.next_page_token
    assert names == ["ds"] + [f"other{i:02d}" for i in range(N)]
