"""The gateway's gRPC contract against the real stack: statuses for bad input, nothing half-written,
versions without gaps under concurrency, health and reflection."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import Raw, digest_of, unique


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    yield client
    await client.close()


async def status_of(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value.code(), info.value.details()


async def test_health_and_reflection(raw):
    resp = await health_pb2_grpc.HealthStub(raw.channel).Check(health_pb2.HealthCheckRequest(service=""))
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(raw.channel)

    async def ask():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names = set()
    async for r in stub.ServerReflectionInfo(ask()):
        names |= {s.name for s in r.list_services_response.service}
    assert {"arkive.v1.BlobService", "arkive.v1.ArtifactService", "arkive.v1.AdminService"} <= names


async def test_digest_mismatch_is_refused_and_blob_stays_invisible(raw):
    data = b"the real bytes " + unique().encode()
    claimed = digest_of(b"other bytes " + unique().encode())
    code, msg = await status_of(raw.upload(data, claimed=claimed))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "digest mismatch" in msg
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[claimed, digest_of(data)]))
    assert set(missing.missing) == {claimed, digest_of(data)}
    code, _ = await status_of(raw.upload(data, size=len(data) + 5))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await status_of(raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=["md5:abc"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_upload_twice_stores_once_and_download_resumes(raw):
    data = unique().encode() * 1000
    first = await raw.upload(data)
    second = await raw.upload(data)
    assert (first.already_present, second.already_present) == (False, True)
    chunks = [m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest_of(data), offset=7))]
    assert b"".join(chunks) == data[7:]
    code, _ = await status_of(_drain(raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest_of(b"never")))))
    assert code == grpc.StatusCode.NOT_FOUND


async def _drain(call) -> None:
    async for _ in call:
        pass


async def test_bad_requests_get_the_right_status_and_write_nothing(raw):
    project = unique()
    cases = [
        (
            raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="../x", type="dataset")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            raw.artifacts.CreateDraft(apb.CreateDraftRequest(project="", name="x", type="dataset")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/nothing:v0")), grpc.StatusCode.NOT_FOUND),
        (raw.artifacts.GetVersion(apb.GetVersionRequest(ref="a/b/c")), grpc.StatusCode.INVALID_ARGUMENT),
        (raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id="nope", files=[])), grpc.StatusCode.NOT_FOUND),
        (
            raw.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name="nothing")),
            grpc.StatusCode.NOT_FOUND,
        ),
    ]
    for call, expected in cases:
        code, msg = await status_of(call)
        assert code == expected, msg
        assert msg
    listed = await raw.artifacts.ListArtifacts(apb.ListArtifactsRequest(project=project))
    assert list(listed.artifacts) == []


@pytest.mark.parametrize("path", ["../escape", "/abs", "a/../../b", "a\\b", "a\0b", "./x", "x/"])
async def test_traversal_paths_are_refused(raw, path):
    data = unique().encode()
    await raw.upload(data)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=unique(), name="t", type="dataset"))
    entry = types_pb2.FileEntry(path=path, digest=digest_of(data), size=len(data))
    code, _ = await status_of(raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_file_whose_blob_was_never_uploaded_or_lies_about_size(raw):
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=unique(), name="t", type="dataset"))
    ghost = types_pb2.FileEntry(path="ghost", digest=digest_of(unique().encode()), size=3)
    code, msg = await status_of(raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[ghost])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not stored" in msg
    data = unique().encode()
    await raw.upload(data)
    liar = types_pb2.FileEntry(path="liar", digest=digest_of(data), size=len(data) + 1)
    code, _ = await status_of(raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[liar])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_labels_types_metadata_and_committed_drafts(raw):
    project = unique()
    first = await raw.log(project, "ds", {"a": b"1" + project.encode()}, label="raw_2023")
    assert first.created and first.version.label == "raw_2023"
    code, msg = await status_of(raw.log(project, "ds", {"a": b"2" + project.encode()}, label="raw_2023"))
    assert code == grpc.StatusCode.ALREADY_EXISTS and "raw_2023" in msg
    code, _ = await status_of(raw.log(project, "ds", {"a": b"3" + project.encode()}, type="model"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    code, _ = await status_of(raw.log(project, "ds", {"a": b"4"}, metadata_json=json.dumps({"x": "y" * 70000})))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await status_of(raw.log(project, "ds", {"a": b"5"}, metadata_json="[1, 2]"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    versions = await raw.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name="ds"))
    assert [v.version for v in versions.versions] == [0]  # nothing half-written became a version
    got = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/ds:raw_2023"))
    assert got.version.version_id == first.version.version_id
    by_id = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=first.version.version_id))
    assert by_id.version.name == "ds"


async def test_commit_is_idempotent_and_a_committed_draft_is_closed(raw):
    project = unique()
    data = project.encode()
    await raw.upload(data)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    entry = types_pb2.FileEntry(path="f", digest=digest_of(data), size=len(data))
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry]))
    one = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
    two = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
    # A repeat (e.g. a retry after a lost answer) gets the first answer, `created` included.
    assert one.version.version_id == two.version.version_id and one.created and two.created
    code, _ = await status_of(raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION


async def test_eight_clients_commit_one_name_at_once(stack):
    project = unique()
    clients = [Raw(stack.gateway_addr) for _ in range(8)]
    try:
        results = await asyncio.gather(
            *(c.log(project, "race", {"f": f"content {i} {project}".encode()}) for i, c in enumerate(clients))
        )
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    assert all(r.created for r in results)
    assert sorted(r.version.version for r in results) == list(range(8))
    assert len({r.version.version_id for r in results}) == 8
    reader = Raw(stack.gateway_addr)
    try:
        listed = await reader.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name="race"))
    finally:
        await reader.close()
    assert [v.version for v in listed.versions] == list(range(7, -1, -1))
    assert list(listed.versions[0].aliases) == ["latest"]


async def test_aliases_move_and_are_unique(raw):
    project = unique()
    v0 = await raw.log(project, "m", {"w": b"0" + project.encode()}, aliases=["production"])
    v1 = await raw.log(project, "m", {"w": b"1" + project.encode()})
    moved = await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=f"{project}/m:v1", aliases=["production"]))
    assert sorted(moved.version.aliases) == ["latest", "production"]
    old = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=v0.version.version_id))
    assert list(old.version.aliases) == []
    prod = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m:production"))
    assert prod.version.version_id == v1.version.version_id
    code, _ = await status_of(
        raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=f"{project}/m:v0", aliases=["latest"]))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION


async def _upload_many(raw, blobs: list[bytes], corrupt: int | None = None):
    async def messages():
        for i, data in enumerate(blobs):
            claimed = digest_of(b"not this" + data) if i == corrupt else digest_of(data)
            yield bpb.UploadBlobsRequest(header=bpb.UploadBlobHeader(digest=claimed, size=len(data)))
            for j in range(0, len(data), 4096):
                yield bpb.UploadBlobsRequest(chunk=data[j : j + 4096])

    return await raw.blobs.UploadBlobs(messages())


async def _download_many(raw, digests: list[str]) -> tuple[dict[str, bytes], dict[str, int]]:
    """DownloadBlobs, reading both forms (header + chunks, and whole blobs inline); also counts them."""
    got: dict[str, bytearray] = {}
    kinds = {"header": 0, "chunk": 0, "blobs": 0}
    current = ""
    async for m in raw.blobs.DownloadBlobs(bpb.DownloadBlobsRequest(digests=digests)):
        kind = m.WhichOneof("payload")
        kinds[kind] += 1
        if kind == "header":
            current = m.header.digest
            got[current] = bytearray()
        elif kind == "chunk":
            got[current] += m.chunk
        else:
            for b in m.blobs.blobs:
                assert b.size == len(b.data)
                got[b.digest] = bytearray(b.data)
    return {d: bytes(v) for d, v in got.items()}, kinds


def _inline(items: list[tuple[str, int, bytes]]) -> bpb.UploadBlobsRequest:
    return bpb.UploadBlobsRequest(
        blobs=bpb.InlineBlobs(blobs=[bpb.InlineBlob(digest=d, size=n, data=b) for d, n, b in items])
    )


async def test_inline_blobs_mix_with_streamed_ones_and_are_verified(raw):
    tag = unique().encode()
    blobs = [tag + b" inline %d " % i + b"y" * (i * 53 % 3000) for i in range(40)]
    digests = [digest_of(b) for b in blobs]

    async def upload(messages: list[bpb.UploadBlobsRequest]):
        async def it():
            for m in messages:
                yield m

        return await raw.blobs.UploadBlobs(it())

    # A corrupt inline blob (claimed digest of other bytes) or a declared size that is not the data's
    # size rejects the whole call, and nothing is stored.
    bad_digest = [_inline([(d, len(b), b) for d, b in zip(digests[:5], blobs[:5], strict=True)])]
    bad_digest.append(_inline([(digests[6], len(blobs[5]), blobs[5])]))
    code, msg = await status_of(upload(bad_digest))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "digest mismatch" in msg
    bad_size = [_inline([(digests[7], len(blobs[7]) + 1, blobs[7])])]
    code, msg = await status_of(upload(bad_size))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "declared" in msg
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=digests))
    assert len(missing.missing) == len(blobs)
    # Mixed in one stream: inline batches, then a header + chunks blob, then inline again.
    messages = [_inline([(d, len(b), b) for d, b in zip(digests[:20], blobs[:20], strict=True)])]
    messages.append(bpb.UploadBlobsRequest(header=bpb.UploadBlobHeader(digest=digests[20], size=len(blobs[20]))))
    messages += [bpb.UploadBlobsRequest(chunk=blobs[20][j : j + 100]) for j in range(0, len(blobs[20]), 100)]
    messages.append(_inline([(d, len(b), b) for d, b in zip(digests[21:], blobs[21:], strict=True)]))
    reply = await upload(messages)
    assert (reply.stored, reply.already_present) == (len(blobs), 0)
    got, _ = await _download_many(raw, digests)
    assert got == dict(zip(digests, blobs, strict=True))


async def test_small_blobs_travel_and_are_stored_packed(raw, stack):
    import asyncpg

    tag = unique().encode()
    blobs = [tag + b" %d " % i + b"x" * (i * 37 % 5000) for i in range(300)] + [b""]
    code, msg = await status_of(_upload_many(raw, blobs, corrupt=5))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "digest mismatch" in msg
    missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[digest_of(b) for b in blobs[:10]]))
    assert len(missing.missing) == 10  # a rejected pack stores nothing
    await raw.upload(blobs[7])  # one of them already stored on its own
    reply = await _upload_many(raw, blobs)
    assert (reply.stored, reply.already_present) == (len(blobs) - 1, 1)
    conn = await asyncpg.connect(stack.database_url)
    try:
        keys = await conn.fetch(
            "SELECT DISTINCT key FROM hashing_blobs WHERE digest = ANY($1::text[])", [digest_of(b) for b in blobs]
        )
    finally:
        await conn.close()
    assert len(keys) == 2  # the pack and the blob uploaded alone
    wanted = [digest_of(b) for b in reversed(blobs)]
    got, kinds = await _download_many(raw, wanted)
    assert got == {digest_of(b): b for b in blobs}
    assert kinds["blobs"] >= 1  # neighbours in the pack travel whole, many to a message
    one = b"".join(
        [m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest_of(blobs[3]), offset=2))]
    )
    assert one == blobs[3][2:]
