"""Soft delete and undelete over the gRPC contract: hidden from reads, latest moves back, aliases
protect, whole collections, counts, lineage marks deleted nodes, re-log after delete."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import retention_service_pb2 as rpb

from .rawgrpc import unique
from .retention_helpers import RawRetention, code_of


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def log3(raw: RawRetention, project: str, **commit) -> list[str]:
    ids = []
    for i in range(3):
        reply = await raw.log(project, "m", {"f": f"{project} {i}".encode(), "shared": b"shared"}, **commit)
        ids.append(reply.version.version_id)
    return ids


async def test_delete_hides_moves_latest_and_undelete_restores(raw, stack):
    project = unique()
    ids = await log3(raw, project)
    gone = await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=f"{project}/m:latest"))
    assert [(d.version_id, d.version) for d in gone.deleted] == [(ids[2], 2)]
    code, msg = await code_of(raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m:v2")))
    assert code == grpc.StatusCode.NOT_FOUND and msg.endswith(f"{project}/m:v2 was deleted")
    latest = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m"))
    assert latest.version.version == 1 and "latest" in latest.version.aliases
    listed = await raw.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name="m"))
    assert [v.version for v in listed.versions] == [1, 0]
    arts = await raw.artifacts.ListArtifacts(apb.ListArtifactsRequest(project=project))
    assert arts.artifacts[0].version_count == 2 and arts.artifacts[0].latest.version == 1
    # The bytes are still there: v0 and v1 stay fully readable; files of the deleted one are hidden.
    code, _ = await code_of(raw.artifacts.ListFiles(apb.ListFilesRequest(ref=ids[2])))
    assert code == grpc.StatusCode.NOT_FOUND
    back = await raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=f"{project}/m:v2"))
    assert [d.version for d in back.undeleted] == [2]
    latest = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m"))
    assert latest.version.version == 2
    code, _ = await code_of(raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=ids[2])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    # Lineage marks the node deleted (bus consumer, eventually).
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=ids[0]))
    conn = await asyncpg.connect(stack.database_url)
    try:
        await assert_eventually(
            lambda: conn.fetchval("SELECT deleted_at IS NOT NULL FROM lineage_nodes WHERE node_id = $1", ids[0])
        )
    finally:
        await conn.close()


async def test_aliases_protect_unless_deleted_with_them(raw):
    project = unique()
    ids = await log3(raw, project)
    await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=ids[1], aliases=["production"]))
    code, msg = await code_of(raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=f"{project}/m:production")))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "production" in msg
    gone = await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=ids[1], delete_aliases=True))
    assert [d.version for d in gone.deleted] == [1]
    code, _ = await code_of(raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m:production")))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_whole_collection_delete_undelete_and_relog(raw):
    project = unique()
    ids = await log3(raw, project, aliases=["best"])
    code, _ = await code_of(raw.retention.DeleteCollection(rpb.DeleteCollectionRequest(project=project, name="m")))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # v2 holds "best"
    gone = await raw.retention.DeleteCollection(
        rpb.DeleteCollectionRequest(project=project, name="m", delete_aliases=True)
    )
    assert sorted(d.version for d in gone.deleted) == [0, 1, 2]
    assert list((await raw.artifacts.ListArtifacts(apb.ListArtifactsRequest(project=project))).artifacts) == []
    code, msg = await code_of(raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m")))
    assert code == grpc.StatusCode.NOT_FOUND and "was deleted" in msg
    # Logging the content of a deleted version again creates a new version (v3).
    again = await raw.log(project, "m", {"f": f"{project} 0".encode(), "shared": b"shared"})
    assert again.created and again.version.version == 3
    back = await raw.retention.UndeleteCollection(rpb.UndeleteCollectionRequest(project=project, name="m"))
    assert sorted(d.version for d in back.undeleted) == [0, 1, 2]
    listed = await raw.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name="m"))
    assert [v.version for v in listed.versions] == [3, 2, 1, 0]
    assert ids[0] in {v.version_id for v in listed.versions}
