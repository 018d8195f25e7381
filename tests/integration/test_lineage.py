"""Runs and lineage over the gRPC contract: the ZenML example flow, cycles, time travel, crashed
runs and the step cache."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lg
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import retention_service_pb2_grpc as rg

from .rawgrpc import Raw, unique

UP, DOWN = lpb.LINEAGE_DIRECTION_UPSTREAM, lpb.LINEAGE_DIRECTION_DOWNSTREAM


@pytest.fixture
async def raw(stack):
    client = Raw(stack.gateway_addr)
    client.lineage = lg.LineageServiceStub(client.channel)
    yield client
    await client.close()


async def start(raw, project: str, job_type: str, **kw) -> lpb.Run:
    return (await raw.lineage.StartRun(lpb.StartRunRequest(project=project, job_type=job_type, **kw))).run


async def finish(raw, run_id: str, state=lpb.RUN_STATE_FINISHED) -> lpb.Run:
    return (await raw.lineage.FinishRun(lpb.FinishRunRequest(run_id=run_id, state=state))).run


async def lineage(raw, ref: str, direction=UP, depth=5, **kw) -> lpb.GetLineageResponse:
    async def indexed():  # version nodes arrive through the bus consumer
        return await raw.lineage.GetLineage(lpb.GetLineageRequest(ref=ref, direction=direction, depth=depth, **kw))

    return await assert_eventually(indexed, retry_on=(grpc.aio.AioRpcError,), timeout=15)


def named(graph: lpb.GetLineageResponse) -> tuple[set[str], set[tuple[str, str, str]]]:
    label = {n.id: (f"{n.name}:v{n.version}" if n.kind == "version" else n.name) for n in graph.nodes}
    return set(label.values()), {(label[e.source], e.kind, label[e.target]) for e in graph.edges}


async def test_zenml_flow_and_reuse_of_an_older_dataset(raw):
    p = unique()
    loader = await start(raw, p, "load", name="loader-1")
    ds0 = (await raw.log(p, "my_dataset", {"d": b"0" + p.encode()}, run_id=loader.run_id)).version
    await finish(raw, loader.run_id)
    trainer = await start(raw, p, "train", name="trainer-1", config_json=json.dumps({"lr": 0.1}))
    used = (await raw.lineage.UseArtifact(lpb.UseArtifactRequest(run_id=trainer.run_id, ref=f"{p}/my_dataset"))).version
    assert used.version_id == ds0.version_id
    model0 = (await raw.log(p, "my_model", {"w": b"m0" + p.encode()}, type="model", run_id=trainer.run_id)).version
    await finish(raw, trainer.run_id)
    loader2 = await start(raw, p, "load", name="loader-2")
    await raw.log(p, "my_dataset", {"d": b"1" + p.encode()}, run_id=loader2.run_id)
    await finish(raw, loader2.run_id)
    trainer2 = await start(raw, p, "train", name="trainer-2")
    await raw.lineage.UseArtifact(lpb.UseArtifactRequest(run_id=trainer2.run_id, ref=f"{p}/my_dataset:v0"))
    model1 = (await raw.log(p, "my_model", {"w": b"m1" + p.encode()}, type="model", run_id=trainer2.run_id)).version
    await finish(raw, trainer2.run_id)

    nodes, edges = named(await lineage(raw, f"{p}/my_model:v1"))
    assert nodes == {"my_model:v1", "trainer-2", "my_dataset:v0", "loader-1"}
    assert edges == {
        ("trainer-2", "logged", "my_model:v1"),
        ("my_dataset:v0", "used", "trainer-2"),
        ("loader-1", "logged", "my_dataset:v0"),
    }
    nodes, edges = named(await lineage(raw, f"{p}/my_dataset:v0", direction=DOWN))
    assert nodes == {"my_dataset:v0", "trainer-1", "trainer-2", "my_model:v0", "my_model:v1"}
    assert ("my_dataset:v0", "used", "trainer-1") in edges and ("trainer-2", "logged", "my_model:v1") in edges
    only_models, _ = named(await lineage(raw, f"{p}/my_dataset:v0", direction=DOWN, artifact_type="model"))
    assert only_models == {"my_dataset:v0", "my_model:v0", "my_model:v1", "trainer-1", "trainer-2"}
    run = (await raw.lineage.GetRun(lpb.GetRunRequest(run_id=trainer.run_id))).run
    assert run.state == lpb.RUN_STATE_FINISHED and json.loads(run.config_json) == {"lr": 0.1}
    assert list(run.used_version_ids) == [ds0.version_id] and list(run.logged_version_ids) == [model0.version_id]
    runs = await raw.lineage.ListRuns(lpb.ListRunsRequest(project=p, job_type="train"))
    assert [r.name for r in runs.runs] == ["trainer-2", "trainer-1"]
    assert model1.version == 1


async def test_cycles_terminate(raw):
    p = unique()
    run = await start(raw, p, "selfish")
    v = (await raw.log(p, "loop", {"x": p.encode()}, run_id=run.run_id)).version
    await raw.lineage.UseArtifact(lpb.UseArtifactRequest(run_id=run.run_id, ref=v.version_id))
    for direction in (UP, DOWN, lpb.LINEAGE_DIRECTION_BOTH):
        graph = await lineage(raw, v.version_id, direction=direction, depth=50)
        assert len(graph.nodes) == 2 and len(graph.edges) == 2


async def test_logging_needs_a_running_run(raw):
    p = unique()
    run = await start(raw, p, "done")
    await finish(raw, run.run_id, lpb.RUN_STATE_FAILED)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw.log(p, "late", {"x": p.encode()}, run_id=run.run_id)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw.log(p, "ghost", {"x": p.encode()}, run_id="0" * 32)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_run_without_heartbeat_is_marked_crashed(raw):
    run = await start(raw, unique(), "flaky", heartbeat_timeout_seconds=1)

    async def crashed():
        got = (await raw.lineage.GetRun(lpb.GetRunRequest(run_id=run.run_id))).run
        assert got.state == lpb.RUN_STATE_CRASHED

    await assert_eventually(crashed, timeout=15)
    beat = await raw.lineage.HeartbeatRun(lpb.HeartbeatRunRequest(run_id=run.run_id))
    assert beat.state == lpb.RUN_STATE_CRASHED


async def test_as_of_answers_with_the_past(raw):
    p = unique()
    v0 = (await raw.log(p, "model", {"w": b"0" + p.encode()}, aliases=["production"])).version
    await asyncio.sleep(0.05)
    before_move = Timestamp()
    before_move.FromNanoseconds(time.time_ns())
    await asyncio.sleep(0.05)
    v1 = (await raw.log(p, "model", {"w": b"1" + p.encode()})).version
    await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=f"{p}/model:v1", aliases=["production"]))
    now = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{p}/model:production"))
    then = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{p}/model:production", as_of=before_move))
    latest_then = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{p}/model", as_of=before_move))
    assert now.version.version_id == v1.version_id
    assert then.version.version_id == v0.version_id and latest_then.version.version_id == v0.version_id
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{p}/model:v1", as_of=before_move))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    graph = await lineage(raw, f"{p}/model:production", as_of=before_move)
    assert graph.root.id == v0.version_id


async def test_step_cache_hit_and_misses(raw):
    p = unique()
    assert not (await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:abc"))).hit
    run = await start(raw, p, "train")
    out = (await raw.log(p, "out", {"x": p.encode()}, run_id=run.run_id)).version
    await raw.lineage.RecordCacheKey(
        lpb.RecordCacheKeyRequest(run_id=run.run_id, cache_key="step:abc", version_ids=[out.version_id])
    )
    pending = await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:abc"))
    assert not pending.hit  # only finished runs count
    await finish(raw, run.run_id)
    hit = await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:abc"))
    assert hit.hit and hit.run_id == run.run_id and [v.version_id for v in hit.versions] == [out.version_id]
    other = await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:abd"))
    assert not other.hit
    retention = rg.RetentionServiceStub(raw.channel)
    await retention.DeleteVersion(rpb.DeleteVersionRequest(ref=out.version_id, delete_aliases=True))
    gone = await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:abc"))
    assert not gone.hit  # a hit whose output was deleted is a miss

    async def shown_deleted():
        graph = await raw.lineage.GetLineage(lpb.GetLineageRequest(ref=f"run:{run.run_id}", direction=DOWN))
        assert [n.deleted for n in graph.nodes if n.kind == "version"] == [True]

    await assert_eventually(shown_deleted, timeout=15)


async def test_step_cache_of_many_outputs_keeps_their_order_and_refuses_an_unknown_one(raw):
    # lineage checks and looks up all outputs in one bus call (INGEST.get_versions), not one per output
    p = unique()
    run = await start(raw, p, "train")
    outs = [(await raw.log(p, f"out{i}", {"x": f"{i}{p}".encode()}, run_id=run.run_id)).version for i in range(3)]
    ids = [outs[2].version_id, outs[0].version_id, outs[1].version_id]
    unknown = uuid.uuid4().hex
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw.lineage.RecordCacheKey(
            lpb.RecordCacheKeyRequest(run_id=run.run_id, cache_key="step:many", version_ids=[*ids, unknown])
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND and unknown in (info.value.details() or "")
    await raw.lineage.RecordCacheKey(
        lpb.RecordCacheKeyRequest(run_id=run.run_id, cache_key="step:many", version_ids=ids)
    )
    await finish(raw, run.run_id)
    hit = await raw.lineage.LookupCache(lpb.LookupCacheRequest(project=p, cache_key="step:many"))
    assert hit.hit and [v.version_id for v in hit.versions] == ids


async def test_lineage_pages(raw):
    p = unique()
    run = await start(raw, p, "fan-in")
    for i in range(5):
        v = (await raw.log(p, f"in{i}", {"x": f"{i}{p}".encode()})).version
        await raw.lineage.UseArtifact(lpb.UseArtifactRequest(run_id=run.run_id, ref=v.version_id))
    whole = await lineage(raw, f"run:{run.run_id}", depth=1)
    assert len(whole.nodes) == 6 and not whole.next_page_token
    seen, edges, token = [], set(), ""
    while True:
        page = await raw.lineage.GetLineage(
            lpb.GetLineageRequest(ref=f"run:{run.run_id}", direction=UP, depth=1, page_size=4, page_token=token)
        )
        assert len(page.nodes) <= 4
        seen += [n.id for n in page.nodes]
        edges |= {(e.source, e.target) for e in page.edges}
        token = page.next_page_token
        if not token:
            break
    assert seen == [n.id for n in whole.nodes]
    assert edges == {(e.source, e.target) for e in whole.edges}


async def test_lineage_follows_refs_across_projects(raw):
    shared, team = unique(), unique()
    base = (await raw.log(shared, "corpus", {"c": shared.encode()})).version
    run = await start(raw, team, "finetune")
    used = await raw.lineage.UseArtifact(lpb.UseArtifactRequest(run_id=run.run_id, ref=f"{shared}/corpus:latest"))
    assert used.version.version_id == base.version_id
    out = (await raw.log(team, "tuned", {"w": team.encode()}, type="model", run_id=run.run_id)).version
    graph = await lineage(raw, f"{team}/tuned:v0")
    assert {(n.project, n.name) for n in graph.nodes if n.kind == "version"} == {(team, "tuned"), (shared, "corpus")}, (
        graph
    )
    down = await lineage(raw, f"{shared}/corpus", direction=DOWN)
    assert out.version_id in {n.id for n in down.nodes}
