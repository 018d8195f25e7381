"""SDK clients ride out gateway restarts: logs running while the gateway is SIGKILLed and started
again all complete soon after it is back, leave no orphan draft and make each version once; a new
client never inherits a connection stuck in reconnect backoff; CreateDraft is idempotent by its
request id."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import grpc
import pytest
import pytest_asyncio
from support import assert_eventually

import arkive
import arkive._rpc as rpc_mod
from arkive_common import eventlog
from arkive_gateway import server as gateway_server
from arkive_proto.v1 import artifact_service_pb2 as apb

from .rawgrpc import Raw, unique
from .refs_helpers import free_port
from .restarts import RestartableGateway, losing_proxy, own_stack

SLACK = 5.0  # a log may take this much longer than the outage it met


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def restartable(infra) -> AsyncIterator[RestartableGateway]:
    async with own_stack(infra) as (_, gateway):
        yield gateway


def test_channel_options_reconnect_fast_and_keep_their_own_connections() -> None:
    options = dict(rpc_mod.CHANNEL_OPTIONS)
    assert options["grpc.max_reconnect_backoff_ms"] <= 2_000
    assert options["grpc.initial_reconnect_backoff_ms"] <= options["grpc.max_reconnect_backoff_ms"]
    assert options["grpc.min_reconnect_backoff_ms"] <= options["grpc.max_reconnect_backoff_ms"]
    assert options["grpc.use_local_subchannel_pool"] == 1
    assert options["grpc.keepalive_permit_without_calls"] == 1
    # The gateway must accept the client's pings (without calls too), or it answers with GOAWAY.
    server = dict(gateway_server.SERVER_OPTIONS)
    assert server["grpc.keepalive_permit_without_calls"] == 1
    assert server["grpc.http2.min_recv_ping_interval_without_data_ms"] <= options["grpc.keepalive_time_ms"]


async def test_every_rpc_is_classified() -> None:
    from arkive_proto.v1 import (
        admin_service_pb2,
        artifact_service_pb2,
        artifact_service_pb2_grpc,
        auth_service_pb2,
        blob_service_pb2,
        catalog_service_pb2,
        lineage_service_pb2,
        reference_service_pb2,
        retention_service_pb2,
    )

    modules = (
        admin_service_pb2,
        artifact_service_pb2,
        auth_service_pb2,
        blob_service_pb2,
        catalog_service_pb2,
        lineage_service_pb2,
        reference_service_pb2,
        retention_service_pb2,
    )
    rpcs = [m.name for mod in modules for s in mod.DESCRIPTOR.services_by_name.values() for m in s.methods]
    assert len(rpcs) == len(set(rpcs))  # classified by name: names must not repeat across services
    assert sorted(set(rpcs) - set(rpc_mod.CALL_KINDS)) == []
    assert sorted(set(rpc_mod.CALL_KINDS) - set(rpcs)) == []
    assert all(rpc_mod.CALL_KINDS[name] == rpc_mod.IDEMPOTENT for name in rpc_mod.READ_ONLY_CALLS)
    # The kind is found from a generated stub's method, as AsyncClient._call gets it.
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        stub = artifact_service_pb2_grpc.ArtifactServiceStub(channel)
        assert rpc_mod.call_kind(stub.CreateDraft) == rpc_mod.call_kind(stub.GetVersion) == rpc_mod.IDEMPOTENT
        assert rpc_mod.call_kind(stub.AbortDraft) == rpc_mod.call_kind(stub.RemoveFiles) == rpc_mod.ONCE


async def _stuck_then_new_client(target: str) -> float:
    """A first client fails to connect where nothing listens yet (its connection then sits in a
    30 s reconnect backoff); a server comes up there; seconds a second, new client needs for a call."""
    port, project = free_port(), unique()
    addr = f"127.0.0.1:{port}"
    first = arkive.AsyncClient(addr, project, progress=False, retry_deadline=0)
    second = arkive.AsyncClient(addr, project, progress=False, retry_deadline=4)
    try:
        with pytest.raises(arkive.Unavailable):
            await first.versions("nothing")
        async with losing_proxy(target, port):
            started = time.monotonic()
            try:
                await second.versions("nothing")
            except arkive.NotFound:  # an answer from the gateway: the call got through
                pass
            except arkive.Unavailable:
                pass  # stuck: the time says so
            return time.monotonic() - started
    finally:
        await first.close()
        await second.close()


async def test_a_new_client_does_not_inherit_a_stuck_connection(stack, monkeypatch: pytest.MonkeyPatch) -> None:
    slow_backoff = {
        "grpc.initial_reconnect_backoff_ms": 30_000,
        "grpc.min_reconnect_backoff_ms": 30_000,
        "grpc.max_reconnect_backoff_ms": 30_000,
    }
    options = [(k, slow_backoff.get(k, v)) for k, v in rpc_mod.CHANNEL_OPTIONS]
    monkeypatch.setattr(rpc_mod, "CHANNEL_OPTIONS", options)
    assert await _stuck_then_new_client(stack.gateway_addr) < 2.0
    # The control: with grpc's shared (global) subchannel pool, the new client waits for the old
    # connection's backoff and gives up after its 4 s retry deadline.
    shared = [(k, v) for k, v in options if k != "grpc.use_local_subchannel_pool"]
    monkeypatch.setattr(rpc_mod, "CHANNEL_OPTIONS", shared)
    assert await _stuck_then_new_client(stack.gateway_addr) >= 3.5


def _artifact(root: Path, lane: str, i: int) -> arkive.Artifact:
    folder = root / f"{lane}-{i}"
    folder.mkdir()
    for n in range(3):
        (folder / f"small-{n}.txt").write_text(f"{lane} {i} {n} {uuid.uuid4().hex}\n")
    (folder / "large.bin").write_bytes(uuid.uuid4().bytes * (96 * 1024))  # 1.5 MiB: its own stream
    art = arkive.Artifact("ds", type="dataset")
    art.add_dir(folder)
    return art


async def test_logs_ride_out_gateway_kills(infra, restartable: RestartableGateway, tmp_path: Path) -> None:
    project = unique("restart")
    logged: list[tuple[str, float, float, arkive.ArtifactVersion]] = []  # (lane, started, ended, version)
    stop = asyncio.Event()

    async def lane(name: str, fresh_client_per_log: bool) -> None:
        client = arkive.AsyncClient(restartable.addr, project, progress=False)
        i = 0
        try:
            while not stop.is_set() or i < 2:
                if fresh_client_per_log:  # a client made during an outage must connect as soon as it can
                    await client.close()
                    client = arkive.AsyncClient(restartable.addr, project, progress=False)
                art = _artifact(tmp_path, name, i)
                started = time.monotonic()
                version = await client.log_artifact(art)
                logged.append((name, started, time.monotonic(), version))
                i += 1
        finally:
            await client.close()

    def each_lane_logged_since(moment: float) -> bool:
        failed = [t.exception() for t in lanes if t.done() and t.exception() is not None]
        if failed:  # a log gave up: fail now, with its error
            raise failed[0]  # type: ignore[misc]
        return {name for name, _, ended, _ in logged if ended > moment} == {"kept", "fresh"}

    lanes = [asyncio.create_task(lane("kept", False)), asyncio.create_task(lane("fresh", True))]
    try:
        await assert_eventually(lambda: each_lane_logged_since(0), timeout=60)
        for down_for in (1.0, 0.1):
            await restartable.restart(down_for)
            back = time.monotonic()
            await assert_eventually(lambda: each_lane_logged_since(back), timeout=60)  # noqa: B023
        stop.set()
        await asyncio.gather(*lanes)
    finally:
        stop.set()
        for t in lanes:
            t.cancel()

    outages = restartable.outages[-2:]

    def outage_met(started: float, ended: float) -> float:
        return sum(max(0.0, min(ended, back) - max(started, killed)) for killed, back in outages)

    # Each log takes at most the outage it met plus SLACK (a log that met none: just SLACK).
    over = [(ended - started) - outage_met(started, ended) for _, started, ended, _ in logged]
    worst = max(ended - started for _, started, ended, _ in logged)
    took = [round(back - killed, 1) for killed, back in outages]
    print(f"\nrestarts: {len(logged)} logs, outages {took} s, worst log {worst:.2f} s,", end=" ")
    print(f"worst beyond the outage it met {max(over):.2f} s")
    assert max(over) <= SLACK
    versions = [v for _, _, _, v in logged]
    assert all(v.created for v in versions)  # distinct content each time, so each log made a version
    ids = [v.version_id for v in versions]
    assert len(set(ids)) == len(ids)
    async with arkive.AsyncClient(restartable.addr, project, progress=False) as client:
        listed = (await client.versions("ds"))[::-1]
    assert [v.version for v in listed] == list(range(len(ids)))  # each acknowledged version, exactly once
    assert sorted(v.version_id for v in listed) == sorted(ids)
    # One draft per log, every one committed: a retried CreateDraft opened no second, orphan draft.
    conn = await asyncpg.connect(infra.database_url)
    try:
        drafts = await conn.fetch("SELECT committed_version_id FROM ingest_drafts WHERE project = $1", project)
    finally:
        await conn.close()
    assert len(drafts) == len(ids)
    assert sorted(d["committed_version_id"] for d in drafts) == sorted(ids)


async def test_a_log_whose_answers_are_lost_retries_into_one_draft_and_version(stack, tmp_path: Path) -> None:
    project = unique()
    async with losing_proxy(stack.gateway_addr) as (addr, proxy):
        proxy.lose = {"CreateDraft": 1, "AddFiles": 1, "UploadBlob": 1, "UploadBlobs": 1, "CommitDraft": 1}
        async with arkive.AsyncClient(addr, project, progress=False) as client:
            version = await client.log_artifact(_artifact(tmp_path, "lost", 0))
            assert version.created and version.version == 0  # the retried commit's answer is the first one's
            listed = await client.versions("ds")
        assert not any(proxy.lose.values()), proxy.calls  # every answer meant to be lost was
        assert proxy.calls["CreateDraft"] == 2 and proxy.calls["CommitDraft"] == 2
    assert [v.version_id for v in listed] == [version.version_id]
    conn = await asyncpg.connect(stack.database_url)
    try:
        drafts = await conn.fetch("SELECT committed_version_id FROM ingest_drafts WHERE project = $1", project)
    finally:
        await conn.close()
    assert [d["committed_version_id"] for d in drafts] == [version.version_id]  # no orphan draft


async def test_create_draft_is_idempotent_by_request_id(stack, db: asyncpg.Connection) -> None:
    raw = Raw(stack.gateway_addr)
    project = unique()
    try:

        async def create(request_id: str, name: str = "ds") -> str:
            request = apb.CreateDraftRequest(project=project, name=name, type="dataset", request_id=request_id)
            return (await raw.artifacts.CreateDraft(request)).draft_id

        first = await create("req-1")
        assert await create("req-1") == first  # a retry: the same draft
        other = await create("req-2")
        assert other != first
        assert await create("") != await create("")  # no id: every request opens a draft
        rows = await db.fetch("SELECT draft_id FROM ingest_drafts WHERE project = $1 AND name = 'ds'", project)
        assert len(rows) == 4
        # Racing requests with one id open one draft (the unique index decides).
        assert len(set(await asyncio.gather(*(create("req-3") for _ in range(8))))) == 1
        # The id is in the event (a rebuilt read model keeps it), not only in a table.
        env = (await eventlog.read_stream(db, f"draft-{first}"))[0]
        assert env.event().request_id == "req-1"
        for bad, name in (("x" * 65, "ds"), ("has space", "ds"), ("req-1", "other")):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await create(bad, name)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    finally:
        await raw.close()
