"""Calls that span projects against the real stack: ListProjects and SearchVersions(all_projects)
answer only for the projects the caller may read, and never name another."""

from __future__ import annotations

import grpc
import pytest
from arkive_core.errors import InvalidArgument
from support import scratch_dir

import arkive
from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc

from .auth_helpers import admin_token, bearer, create_token
from .rawgrpc import unique


async def _log(client: arkive.AsyncClient, project: str, name: str, content: bytes) -> arkive.ArtifactVersion:
    with scratch_dir() as folder:
        (folder / "data.bin").write_bytes(content)
        art = arkive.Artifact(name, type="dataset", metadata={"score": len(content)})
        art.add_dir(folder)
        return await client.log_artifact(art, project)


@pytest.fixture
async def admin(stack):
    async with arkive.AsyncClient(address=stack.gateway_addr, progress=False) as c:
        yield c


async def test_projects_and_search_span_only_readable_projects(stack, admin):
    mine, theirs, empty = unique("mine"), unique("theirs"), unique("empty")
    name = unique("ds")  # one collection name in both projects: searches below filter by it
    a0 = await _log(admin, mine, name, b"a" * 10)
    a1 = await _log(admin, mine, name, b"b" * 30)
    await _log(admin, mine, unique("other"), b"c" * 5)
    b0 = await _log(admin, theirs, name, b"d" * 7)
    async with grpc.aio.insecure_channel(stack.gateway_addr) as channel:
        token = await create_token(channel, admin_token(), unique("u"), project=mine, role="reader")
        # `empty` exists through another principal's grant only: unreadable to the reader of `mine`.
        await create_token(channel, admin_token(), unique("u2"), project=empty, role="writer")
        async with arkive.AsyncClient(address=stack.gateway_addr, progress=False, api_key=token) as reader:
            listed = await reader.projects()
            assert [(p.name, p.collections, p.versions, p.total_bytes) for p in listed] == [(mine, 2, 3, 45)]
            found = await reader.search(arkive.ALL_PROJECTS, name=name)
            assert [v.version_id for v in found] == [a1.version_id, a0.version_id]
            assert {v.project for v in await reader.search(arkive.ALL_PROJECTS, limit=0)} == {mine}
            assert [v.ref for v in await reader.search(arkive.ALL_PROJECTS, name=name, where=["score<20"])] == [
                f"{mine}/{name}:v0"
            ]

            stub = cgrpc.CatalogServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.SearchVersions(
                    cpb.SearchVersionsRequest(project=mine, all_projects=True), metadata=bearer(token)
                )
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.aio.AioRpcError) as err:  # a project by name still needs its grant
                await stub.SearchVersions(cpb.SearchVersionsRequest(project=theirs), metadata=bearer(token))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

    everything = {p.name: p for p in await admin.projects()}
    assert {mine, theirs, empty} <= set(everything)
    assert (everything[theirs].versions, everything[empty].versions) == (1, 0)
    across = await admin.search(arkive.ALL_PROJECTS, name=name, order_by="created_at")
    assert [v.version_id for v in across] == [a0.version_id, a1.version_id, b0.version_id]
    paged = [v.version_id async for v in admin.search_iter(arkive.ALL_PROJECTS, name=name, page_size=1)]
    assert paged == [b0.version_id, a1.version_id, a0.version_id]
    with pytest.raises(InvalidArgument):
        await admin.search("*bad*")
