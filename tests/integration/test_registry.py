"""Registry collections (collections of links) as first-class collections against the real stack:
their versions are their links (listed, searched, shown by `ls`), links can be listed and removed,
and an alias on a link protects its source version from `rm` and from retention."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from arkive_core.errors import FailedPrecondition, NotFound
from support import assert_eventually, scratch_dir

import arkive
from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc

from .auth_helpers import admin_token, create_token
from .rawgrpc import unique


@pytest.fixture
async def client(stack):
    async with arkive.AsyncClient(address=stack.gateway_addr, progress=False) as c:
        yield c


async def _log(client: arkive.AsyncClient, project: str, content: bytes, **metadata) -> arkive.ArtifactVersion:
    with scratch_dir() as folder:
        (folder / "weights.bin").write_bytes(content)
        art = arkive.Artifact("clf", type="model", metadata=metadata)
        art.add_dir(folder)
        return await client.log_artifact(art, project)


async def _world(client: arkive.AsyncClient) -> tuple[str, str, list[arkive.ArtifactVersion]]:
    team, registry = unique("team"), unique("reg")
    versions = [await _log(client, team, f"{team} w{i}".encode(), accuracy=0.5 + i / 10) for i in range(3)]
    zoo = f"{registry}/zoo"
    await client.link(versions[0], zoo, aliases=["production"])
    await client.link(versions[2], zoo)
    return team, zoo, versions


async def test_links_are_the_versions_of_a_registry_collection(client):
    team, zoo, v = await _world(client)
    registry = zoo.split("/")[0]
    listed = await client.versions(zoo)
    assert [(x.project, x.name, x.version, x.version_id, x.linked_from) for x in listed] == [
        (registry, "zoo", 1, v[2].version_id, f"{team}/clf:v2"),
        (registry, "zoo", 0, v[0].version_id, f"{team}/clf:v0"),
    ]
    assert [sorted(x.aliases) for x in listed] == [["latest"], ["production"]]
    assert listed[0].metadata == {"accuracy": 0.7} and listed[0].manifest_digest == v[2].manifest_digest
    [col] = await client.artifacts(registry)
    assert (col.version_count, col.latest.version, col.latest.linked_from) == (2, 1, f"{team}/clf:v2")

    found = await client.search(registry)
    assert [(x.ref, x.linked_from) for x in found] == [(f"{zoo}:v1", f"{team}/clf:v2"), (f"{zoo}:v0", f"{team}/clf:v0")]
    assert [x.ref for x in await client.search(registry, where=["accuracy<0.6"])] == [f"{zoo}:v0"]
    assert [x.ref for x in await client.search(registry, alias="production")] == [f"{zoo}:v0"]
    assert [x.ref for x in await client.search(registry, order_by="metadata.accuracy")] == [f"{zoo}:v0", f"{zoo}:v1"]
    paged = [x.ref async for x in client.search_iter(registry, order_by="version", page_size=1)]
    assert paged == [f"{zoo}:v0", f"{zoo}:v1"]
    # The source project's own search is unchanged: its three versions, no links.
    assert sorted(x.version for x in await client.search(team)) == [0, 1, 2]

    links = await client.links(zoo)
    assert [(x.ref, x.source_ref, x.aliases) for x in links] == [
        (f"{zoo}:v1", f"{team}/clf:v2", ("latest",)),
        (f"{zoo}:v0", f"{team}/clf:v0", ("production",)),
    ]


async def test_unlink_removes_the_link_and_its_aliases_and_never_reuses_its_number(client, db):
    team, zoo, v = await _world(client)
    project = zoo.split("/")[0]
    gone = await client.unlink(f"{zoo}:production")
    assert (gone.link_version, gone.linked_from, gone.aliases_removed) == (0, f"{team}/clf:v0", ("production",))
    assert [x.version for x in await client.versions(zoo)] == [1]
    with pytest.raises(NotFound):
        await client.get_version(f"{zoo}:production")
    assert (await client.get_version(f"{team}/clf:v0")).version_id == v[0].version_id  # the source stays
    again = await client.unlink(f"{zoo}:v1")  # the last one: latest goes too
    assert again.link_version == 1
    with pytest.raises(NotFound):
        await client.get_version(zoo)
    assert await client.artifacts(project) == []
    relinked = await client.link(v[0], zoo)
    assert relinked.link_version == 2  # numbers are never reused
    assert (await client.get_version(zoo)).version_id == v[0].version_id
    types = [
        r["type"]
        for r in await db.fetch(
            "SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version", f"collection-{zoo}"
        )
    ]
    assert types.count("VersionUnlinked") == 2
    with pytest.raises(NotFound, match="no link v7"):
        await client.unlink(f"{zoo}:v7")
    with pytest.raises(NotFound):
        await client.unlink(f"{team}/clf:v0")  # not a collection of links


async def test_unlink_needs_write_on_the_registry(stack, client):
    _, zoo, _ = await _world(client)
    project, name = zoo.split("/")
    async with grpc.aio.insecure_channel(stack.gateway_addr) as channel:
        reader = await create_token(channel, admin_token(), unique("rd"), project=project, role="reader")
        stub = cgrpc.CatalogServiceStub(channel)
        request = cpb.UnlinkVersionRequest(project=project, name=name, selector="v0")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.UnlinkVersion(request, metadata=[("authorization", f"Bearer {reader}")])
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_an_alias_on_a_link_protects_its_source_from_rm_and_retention(client):
    team, zoo, v = await _world(client)
    with pytest.raises(FailedPrecondition, match=f"{zoo}:production"):
        await client.delete(v[0])
    await client.put_policy("last1", team, keep_last=1)

    async def planned():
        plan = await client.retention_plan(team)
        assert [d.version for d in plan.deletions] == [1]  # v2 kept by the policy, v0 by the registry
        return plan

    plan = await assert_eventually(planned)
    assert [(k.version, k.aliases) for k in plan.protected] == [(0, (f"{zoo}:production",))]
    assert plan.protected_versions == 1
    applied = await client.retention_apply(team)
    assert applied.deleted == 1
    assert (await client.get_version(f"{zoo}:production")).version_id == v[0].version_id

    # --delete-aliases removes the link's aliases too; latest of the registry stays on a live link.
    await client.delete(v[2])  # latest of the registry pointed here: it moves back to the live v0
    assert (await client.get_version(zoo)).version_id == v[0].version_id
    await client.delete(v[0], delete_aliases=True)
    with pytest.raises(NotFound):
        await client.get_version(f"{zoo}:production")
    assert await client.versions(zoo) == []
    await client.undelete(v[0])  # gives the link its alias back, and latest
    assert (await client.get_version(f"{zoo}:production")).version_id == v[0].version_id
    assert (await client.get_version(zoo)).version_id == v[0].version_id


async def test_changes_through_a_link_are_refused(client):
    team, zoo, _ = await _world(client)
    for change in (
        client.delete(f"{zoo}:v0"),  # the registry's roles would otherwise delete a version of another project
        client.set_aliases(f"{zoo}:production", add=["staging"]),
        client.update_version(f"{zoo}:production", metadata={"owner": "registry"}),
        client.set_ttl(f"{zoo}:production", timedelta(seconds=1)),  # retention would delete the source
    ):
        with pytest.raises(FailedPrecondition, match=f"registry link to {team}/clf:v0"):
            await change
    assert (await client.get_version(f"{team}/clf:v0")).metadata == {"accuracy": 0.5}
    updated = await client.update_version(f"{team}/clf:v0", metadata={"owner": "team"})  # its own ref works
    assert updated.metadata == {"accuracy": 0.5, "owner": "team"}
