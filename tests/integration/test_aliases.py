"""Alias management after logging over the gRPC contract (SetAliases, ListAliases): events in the
log, `latest` refused, undelete restoring what a delete removed, retention's projection following."""

from __future__ import annotations

import grpc
import pytest
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import unique
from .retention_helpers import RawRetention, code_of


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


async def log(raw: RawRetention, project: str, n: int) -> list[str]:
    return [(await raw.log(project, "m", {"f": f"{project} {i}".encode()})).version.version_id for i in range(n)]


async def set_aliases(raw: RawRetention, ref: str, add=(), remove=()) -> types_pb2.Version:
    reply = await raw.artifacts.SetAliases(apb.SetAliasesRequest(ref=ref, add=list(add), remove=list(remove)))
    return reply.version


async def listed(raw: RawRetention, project: str) -> dict[str, int]:
    reply = await raw.artifacts.ListAliases(apb.ListAliasesRequest(project=project, name="m"))
    return {a.alias: a.version for a in reply.aliases}


async def test_set_and_remove_are_events_and_list_follows(raw, db):
    project = unique()
    ids = await log(raw, project, 2)
    v0 = await set_aliases(raw, f"{project}/m:v0", add=["production", "staging"])
    assert sorted(v0.aliases) == ["production", "staging"]
    v1 = await set_aliases(raw, f"{project}/m:v1", add=["production"])
    assert sorted(v1.aliases) == ["latest", "production"]
    v0 = await set_aliases(raw, ids[0], remove=["staging", "never-there"])
    assert list(v0.aliases) == []
    assert await listed(raw, project) == {"latest": 1, "production": 1}
    code, _ = await code_of(raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/m:staging")))
    assert code == grpc.StatusCode.NOT_FOUND
    rows = await db.fetch(
        "SELECT type FROM events WHERE stream_id = $1 AND type LIKE 'Alias%' ORDER BY stream_version",
        f"collection-{project}/m",
    )
    # latest twice (two commits), production+staging, production moved, staging removed.
    assert [r["type"] for r in rows] == ["AliasAssigned"] * 5 + ["AliasRemoved"]
    assert await set_aliases(raw, ids[1], add=["production"]) == v1  # no change, no event
    assert await db.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", f"collection-{project}/m") == 9


@pytest.mark.parametrize(
    "add, remove, says",
    [(["latest"], [], "latest"), ([], ["latest"], "latest"), (["a"], ["a"], "both"), (["v3"], [], "reserved")],
)
async def test_latest_and_bad_requests_are_invalid_argument(raw, add, remove, says):
    project = unique()
    await log(raw, project, 1)
    code, msg = await code_of(set_aliases(raw, f"{project}/m", add, remove))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and says in msg


async def test_unknown_ref_and_collection_are_not_found(raw):
    project = unique()
    code, _ = await code_of(set_aliases(raw, f"{project}/m:v0", ["x"]))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = await code_of(listed(raw, project))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_undelete_restores_the_aliases_the_delete_removed_unless_moved(raw):
    project = unique()
    ids = await log(raw, project, 3)
    await set_aliases(raw, ids[1], add=["production", "staging"])
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=ids[1], delete_aliases=True))
    assert await listed(raw, project) == {"latest": 2}
    await set_aliases(raw, ids[2], add=["production"])  # moved elsewhere meanwhile: stays there
    back = await raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=ids[1]))
    assert [d.version for d in back.undeleted] == [1]
    assert await listed(raw, project) == {"latest": 2, "production": 2, "staging": 1}


async def test_retention_projection_follows_set_and_remove(raw):
    project = unique()
    ids = await log(raw, project, 2)
    await raw.retention.PutPolicy(
        rpb.PutPolicyRequest(policy=rpb.RetentionPolicy(project=project, name="last1", keep_last=1))
    )

    async def plan() -> rpb.PlanRetentionResponse:
        return await raw.retention.PlanRetention(rpb.PlanRetentionRequest(project=project))

    async def planned(deleted: list[str], protected: int) -> None:
        p = await plan()
        assert ([d.version_id for d in p.deletions], p.protected_versions) == (deleted, protected)

    await assert_eventually(lambda: planned([ids[0]], 0))
    await set_aliases(raw, ids[0], add=["production"])
    await assert_eventually(lambda: planned([], 1))
    await set_aliases(raw, ids[0], remove=["production"])
    await assert_eventually(lambda: planned([ids[0]], 0))
