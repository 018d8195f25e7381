"""One trace from a gRPC call at the gateway, through the bus RPC to ingest and the event it appended,
to the consumers that applied that event (the traceparent travels in NATS headers and in the log).

The services run in this test's process (on a deployment of their own, tests/isolated.py) so one
in-memory exporter sees every span; nothing but the headers carries the trace between them: a bus
request is served in a task started by the NATS client, and an event reaches a consumer through
PostgreSQL, the outbox relay and JetStream.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from isolated import isolated_env
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from support import assert_eventually

import arkive
from arkive_common.config import Settings
from arkive_gateway.server import bootstrap as gateway
from arkive_hashing.bootstrap import bootstrap as hashing
from arkive_ingest.bootstrap import bootstrap as ingest
from arkive_lineage.bootstrap import bootstrap as lineage
from arkive_retention.bootstrap import bootstrap as retention
from arkive_stack.ports import free_port

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
async def deployment(infra, monkeypatch_module) -> AsyncIterator[str]:
    """The five services in this process with an SDK tracer provider; yields the gateway address."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)  # once per process: the no-op default until now
    async with isolated_env(infra) as env:
        addr = f"127.0.0.1:{free_port(set())}"
        for k, v in env.items():
            if k.startswith("ARKIVE_"):
                monkeypatch_module.setenv(k, v)
        monkeypatch_module.setenv("ARKIVE_GATEWAY_ADDR", addr)
        monkeypatch_module.setenv("ARKIVE_RETENTION_INTERVAL", "0")
        settings = Settings.from_env()
        services = [await b(settings) for b in (ingest, hashing, lineage, retention)]
        for s in services:
            await s.start()
        gw = await gateway(settings)
        await gw.start()
        runs = [asyncio.create_task(s.run()) for s in [*services, gw]]
        try:
            yield addr
        finally:
            for s in [gw, *services]:
                await s.shutdown()
            await asyncio.gather(*runs, return_exceptions=True)
            provider.shutdown()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


async def test_one_log_is_one_trace_from_gateway_to_the_consumers(deployment, tmp_path):
    (tmp_path / "t.txt").write_text(uuid.uuid4().hex)
    EXPORTER.clear()
    async with arkive.AsyncClient(deployment, project="traced", progress=False) as client:
        art = arkive.Artifact("t", type="dataset")
        art.add_dir(str(tmp_path))
        await client.log_artifact(art)

    def commit_trace() -> dict[str, list]:
        """The spans of the trace whose bus call appended the commit, by kind of span."""
        spans = EXPORTER.get_finished_spans()
        commit = [s for s in spans if s.name == "bus ingest.commit_draft" and s.kind == SpanKind.SERVER]
        assert len(commit) == 1, [s.name for s in spans]
        trace_id = commit[0].context.trace_id
        same = [s for s in spans if s.context.trace_id == trace_id]
        return {
            "gateway": [s for s in same if s.name.startswith("grpc ") and s.kind == SpanKind.SERVER],
            "gateway->ingest": [s for s in same if s.name == "bus ingest.commit_draft" and s.kind == SpanKind.CLIENT],
            "ingest": commit,
            "consumers": sorted(s.name for s in same if s.kind == SpanKind.CONSUMER),
        }

    async def traced() -> None:
        found = commit_trace()
        assert found["gateway"] and found["gateway->ingest"], found
        assert {"consume lineage", "consume retention"} <= set(found["consumers"]), found

    await assert_eventually(traced, timeout=20)
    found = commit_trace()
    root = found["gateway"][0]
    assert root.parent is None  # the gRPC call started the trace
    assert found["ingest"][0].parent.span_id == found["gateway->ingest"][0].context.span_id


async def test_events_store_the_traceparent_of_their_append(deployment, infra):
    """The log keeps the trace context with each event (the relay copies it into the bus headers)."""
    db = Settings.from_env().database_url
    conn = await asyncpg.connect(db)
    try:
        rows = await conn.fetch("SELECT type, traceparent FROM events WHERE type = 'VersionCommitted'")
    finally:
        await conn.close()
    assert rows and all(r["traceparent"].startswith("00-") for r in rows), rows
