"""/livez, /readyz and /metrics of every process of the session stack (ARKIVE_HEALTH_PORT)."""

from __future__ import annotations

import uuid

import pytest
from httpget import http_get, metric_samples, value
from support import assert_eventually

import arkive

SERVICES = ("gateway", "ingest", "hashing", "lineage", "retention", "web")  # every process the launcher starts


async def test_every_service_is_live_ready_and_exports_metrics(stack):
    assert sorted(stack.health_ports) == sorted(SERVICES)
    for name, port in stack.health_ports.items():
        assert await http_get(port, "/livez") == (200, "ok\n"), name

        async def ready(port: int = port) -> None:
            assert await http_get(port, "/readyz") == (200, "ready\n")

        await assert_eventually(ready, timeout=20)
        up = await metric_samples(port, "arkive_service_up")
        assert value(up, service=name) == 1, (name, up)
        assert (await http_get(port, "/nope"))[0] == 404
        assert (await http_get(port, "/livez", method="POST"))[0] == 405


async def test_gateway_counts_grpc_calls_by_method_and_code(stack):
    port = stack.health_ports["gateway"]
    method = {"grpc_service": "arkive.v1.ArtifactService", "grpc_method": "GetVersion"}
    before_ok = value(await metric_samples(port, "grpc_server_handled_total"), **method, grpc_code="OK")
    before_nf = value(await metric_samples(port, "grpc_server_handled_total"), **method, grpc_code="NOT_FOUND")
    before_n = value(await metric_samples(port, "grpc_server_handling_seconds_count"), **method)
    project = f"health-{uuid.uuid4().hex[:8]}"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        with pytest.raises(arkive.NotFound):
            await client.get_version(f"{project}/missing:v0")
    after = await metric_samples(port, "grpc_server_handled_total")
    assert value(after, **method, grpc_code="NOT_FOUND") == before_nf + 1, after
    assert value(after, **method, grpc_code="OK") == before_ok
    lat = await metric_samples(port, "grpc_server_handling_seconds_count")
    assert value(lat, **method, grpc_type="unary") == before_n + 1


async def test_ingest_counts_events_appended(stack, tmp_path):
    port = stack.health_ports["ingest"]
    before = value(await metric_samples(port, "arkive_events_appended_total"), type="VersionCommitted")
    (tmp_path / "a.txt").write_text("health")
    project = f"health-{uuid.uuid4().hex[:8]}"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("d", type="dataset")
        art.add_dir(str(tmp_path))
        await client.log_artifact(art)
    after = value(await metric_samples(port, "arkive_events_appended_total"), type="VersionCommitted")
    assert after == before + 1
