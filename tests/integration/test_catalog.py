"""CatalogService against the real stack: metadata after commit (the ZenML flow), search (the
MLRun "accuracy > 0.9" query) and registry links (W&B link_artifact), through raw gRPC."""

from __future__ import annotations

import json

import asyncpg
import grpc
import pytest
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cg
from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lg
from arkive_proto.v1 import retention_service_pb2 as rpb

from .rawgrpc import unique
from .retention_helpers import RawRetention, code_of


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    client.catalog = cg.CatalogServiceStub(client.channel)
    yield client
    await client.close()


async def get(raw, ref: str):
    return (await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=ref))).version


async def test_zenml_flow_tags_metadata_and_description_after_commit(raw):
    project = unique()
    logged = (await raw.log(project, "ds", {"a.csv": project.encode()}, label="raw_2023", tags=["raw"])).version
    reply = await raw.catalog.UpdateVersion(
        cpb.UpdateVersionRequest(
            ref=f"{project}/ds:raw_2023",
            set_metadata_json=json.dumps({"rows": 70000, "source": "s3"}),
            add_tags=["clean", "gold"],
            remove_tags=["raw"],
            description="deduplicated",
        )
    )
    assert reply.changed
    for ref in (f"{project}/ds:raw_2023", f"{project}/ds:v0"):  # fetched by label and by name+version
        v = await get(raw, ref)
        assert json.loads(v.metadata_json) == {"rows": 70000, "source": "s3"}
        assert (list(v.tags), v.description, v.label) == (["clean", "gold"], "deduplicated", "raw_2023")
        assert (v.version_id, v.manifest_digest, v.version) == (logged.version_id, logged.manifest_digest, 0)
    again = await raw.catalog.UpdateVersion(
        cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", unset_metadata_keys=["source"], add_tags=["gold"])
    )
    assert again.changed and json.loads(again.version.metadata_json) == {"rows": 70000}
    same = await raw.catalog.UpdateVersion(cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", add_tags=["gold"]))
    assert not same.changed and same.version.description == "deduplicated"  # unset description: unchanged

    code, msg = await code_of(
        raw.catalog.UpdateVersion(cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", set_metadata_json="[1]"))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = await code_of(raw.catalog.UpdateVersion(cpb.UpdateVersionRequest(ref=f"{project}/ds:v9", add_tags=["x"])))
    assert code == grpc.StatusCode.NOT_FOUND
    await raw.log(project, "ds", {"a.csv": b"newer " + project.encode()})
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=f"{project}/ds:v0"))
    code, msg = await code_of(
        raw.catalog.UpdateVersion(cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", add_tags=["x"]))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "deleted" in msg


async def search(raw, project: str, *filters: str, **kw) -> list:
    reply = await raw.catalog.SearchVersions(
        cpb.SearchVersionsRequest(project=project, metadata_filters=list(filters), **kw)
    )
    return list(reply.versions)


def accuracies(versions) -> list:
    return [json.loads(v.metadata_json).get("accuracy") for v in versions]


async def test_search_models_by_accuracy_tags_alias_pattern_run_and_paging(raw, stack):
    project = unique()
    lineage = lg.LineageServiceStub(raw.channel)
    run = (await lineage.StartRun(lpb.StartRunRequest(project=project, job_type="train"))).run
    for i, acc in enumerate([0.5, 0.91, 0.95, 0.9, 0.99]):
        md = {"accuracy": acc, "framework": "sklearn" if i % 2 else "torch", "metrics": {"f1": i / 10}}
        await raw.log(
            project,
            f"clf-{i}",
            {"w": f"{project}{i}".encode()},
            type="model",
            metadata_json=json.dumps(md),
            tags=["prod"] if acc > 0.92 else [],
            run_id=run.run_id if i < 2 else "",
        )
    await raw.log(project, "table", {"t": project.encode()}, metadata_json=json.dumps({"accuracy": 0.97}))
    await raw.log(project, "odd", {"o": project.encode()}, type="model", metadata_json=json.dumps({"accuracy": "high"}))
    await raw.log(project, "none", {"n": project.encode()}, type="model")

    found = await search(raw, project, "accuracy>0.9", type="model", order_by="-metadata.accuracy")
    assert accuracies(found) == [0.99, 0.95, 0.91]  # exactly those, best first; 0.9 itself is not > 0.9
    assert {v.name for v in found} == {"clf-1", "clf-2", "clf-4"}
    assert accuracies(
        await search(raw, project, "metadata.accuracy >= 0.9", type="model", order_by="metadata.accuracy")
    ) == [0.9, 0.91, 0.95, 0.99]
    assert len(await search(raw, project, "accuracy>0.9")) == 4  # the dataset too, without a type
    assert accuracies(await search(raw, project, "accuracy=high")) == ["high"]  # strings as strings
    assert {v.name for v in await search(raw, project, "accuracy!=0.5", type="model")} == {
        "clf-1",
        "clf-2",
        "clf-3",
        "clf-4",
    }
    assert {v.name for v in await search(raw, project, "framework=sklearn", "metrics.f1<0.2")} == {"clf-1"}
    assert {v.name for v in await search(raw, project, tags=["prod"])} == {"clf-2", "clf-4"}
    assert {v.name for v in await search(raw, project, name_pattern="clf-?", run_id=run.run_id)} == {"clf-0", "clf-1"}
    assert len(await search(raw, project, alias="latest", name_pattern="*l*")) == 6  # clf-0..4, table
    newest = await search(raw, project)
    assert [v.name for v in newest][:2] == ["none", "odd"]  # default: newest first
    assert not await search(raw, project, created_after=newest[0].created_at)

    pages, token = [], ""  # paging walks the same order without repeats
    while True:
        reply = await raw.catalog.SearchVersions(
            cpb.SearchVersionsRequest(
                project=project,
                metadata_filters=["accuracy>0"],
                order_by="-metadata.accuracy",
                page_size=2,
                page_token=token,
            )
        )
        pages += accuracies(reply.versions)
        token = reply.next_page_token
        if not token:
            break
    assert pages == [0.99, 0.97, 0.95, 0.91, 0.9, 0.5]

    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=f"{project}/clf-4:v0"))
    assert accuracies(await search(raw, project, "accuracy>0.9", type="model", order_by="-metadata.accuracy")) == [
        0.95,
        0.91,
    ]
    await raw.catalog.UpdateVersion(
        cpb.UpdateVersionRequest(ref=f"{project}/clf-0:v0", set_metadata_json='{"accuracy": 0.93}')
    )
    assert {v.name for v in await search(raw, project, "accuracy>0.9", type="model")} == {"clf-0", "clf-1", "clf-2"}

    async def retention_sees_the_new_metric():  # keep-best-N by metric uses metadata changed after commit
        conn = await asyncpg.connect(stack.database_url)
        try:
            md = await conn.fetchval(
                "SELECT metadata FROM retention_versions WHERE project = $1 AND name = 'clf-0'", project
            )
        finally:
            await conn.close()
        assert md is not None and json.loads(md)["accuracy"] == 0.93

    await assert_eventually(retention_sees_the_new_metric, timeout=20)

    for bad in (
        {"metadata_filters": ["accuracy>>1"]},
        {"metadata_filters": ["x;drop table events>1"]},
        {"order_by": "name; --"},
        {"page_token": "garbage"},
        {"name_pattern": "a%"},
        {"run_id": "nope"},
    ):
        code, msg = await code_of(raw.catalog.SearchVersions(cpb.SearchVersionsRequest(project=project, **bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (bad, msg)
    code, _ = await code_of(raw.catalog.SearchVersions(cpb.SearchVersionsRequest()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_registry_link_moves_production_without_new_bytes(raw, stack):
    team, registry = unique("team"), unique("registry")
    v0 = (await raw.log(team, "resnet", {"w": b"weights 0" + team.encode()}, type="model")).version
    v1 = (await raw.log(team, "resnet", {"w": b"weights 1" + team.encode()}, type="model")).version
    conn = await asyncpg.connect(stack.database_url)
    try:
        blobs_before = await conn.fetchval("SELECT count(*) FROM hashing_blobs")
        link = await raw.catalog.LinkVersion(
            cpb.LinkVersionRequest(
                ref=f"{team}/resnet:v0", target_project=registry, target_name="model-zoo-resnet", aliases=["production"]
            )
        )
        assert (link.link_version, link.created, list(link.aliases)) == (0, True, ["latest", "production"])
        zoo = f"{registry}/model-zoo-resnet"
        assert (await get(raw, f"{zoo}:production")).version_id == v0.version_id
        second = await raw.catalog.LinkVersion(
            cpb.LinkVersionRequest(ref=v1.version_id, target_project=registry, target_name="model-zoo-resnet")
        )
        assert second.link_version == 1
        assert (await get(raw, zoo)).version_id == v1.version_id  # latest follows the newest link
        assert (await get(raw, f"{zoo}:production")).version_id == v0.version_id
        moved = await raw.catalog.LinkVersion(
            cpb.LinkVersionRequest(
                ref=f"{team}/resnet:v1", target_project=registry, target_name="model-zoo-resnet", aliases=["production"]
            )
        )
        assert (moved.created, moved.link_version) == (False, 1)
        prod = await get(raw, f"{zoo}:production")
        assert (prod.version_id, prod.manifest_digest, prod.project) == (v1.version_id, v1.manifest_digest, team)
        assert (await get(raw, f"{zoo}:v0")).version_id == v0.version_id
        listed_links = await raw.catalog.ListLinks(
            cpb.ListLinksRequest(project=registry, name="model-zoo-resnet", page_size=1)
        )
        [newest] = listed_links.links
        assert (newest.link_version, newest.version.version_id, list(newest.aliases)) == (
            1,
            v1.version_id,
            ["latest", "production"],
        )
        rest = await raw.catalog.ListLinks(
            cpb.ListLinksRequest(project=registry, name="model-zoo-resnet", page_token=listed_links.next_page_token)
        )
        assert [(x.link_version, x.version.version, list(x.aliases)) for x in rest.links] == [(0, 0, [])]
        assert not rest.next_page_token
        # No bytes copied, no version logged in the registry project.
        assert await conn.fetchval("SELECT count(*) FROM hashing_blobs") == blobs_before
        assert await conn.fetchval("SELECT count(*) FROM ingest_versions WHERE project = $1", registry) == 0
        listed = await raw.artifacts.ListArtifacts(apb.ListArtifactsRequest(project=registry))
        assert [(c.name, c.version_count, c.latest.version_id) for c in listed.artifacts] == [
            ("model-zoo-resnet", 2, v1.version_id)
        ]
    finally:
        await conn.close()
    code, _ = await code_of(raw.log(registry, "model-zoo-resnet", {"x": b"direct"}, type="model"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # a collection of links takes no logged version
    other = (await raw.log(team, "data", {"d": team.encode()})).version
    code, _ = await code_of(
        raw.catalog.LinkVersion(
            cpb.LinkVersionRequest(ref=other.version_id, target_project=registry, target_name="model-zoo-resnet")
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # a dataset into a collection of models
