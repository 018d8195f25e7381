"""The metrics a platform team alerts on move with real work: bus RPCs on both sides, blob bytes,
consumer progress and lag, outbox lag, dead letters, garbage collection and retention runs.

Every value is read from the /metrics endpoint of the session stack's processes (their lag gauges
are sampled every second there: ARKIVE_METRICS_INTERVAL in conftest)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import asyncpg
from httpget import metric_samples, value
from support import assert_eventually

import arkive
from arkive_common import deadletters
from arkive_hashing.chunker import DURABLE

CONSUMERS = ("lineage", "retention")  # the durable consumers of collection events


async def scrape(stack, process: str, name: str, **labels: str) -> float:
    return value(await metric_samples(stack.health_ports[process], name), **labels)


async def test_metrics_move_after_a_log_a_download_and_retention(stack, tmp_path):
    before = {
        "gw_client": await scrape(stack, "gateway", "arkive_bus_rpc_calls_total", side="client", service="ingest"),
        "ingest_server": await scrape(stack, "ingest", "arkive_bus_rpc_calls_total", side="server", outcome="OK"),
        "ingest_latency": await scrape(stack, "ingest", "arkive_bus_rpc_seconds_count", side="server"),
        "up": await scrape(stack, "gateway", "arkive_blob_bytes_total", direction="uploaded"),
        "down": await scrape(stack, "gateway", "arkive_blob_bytes_total", direction="downloaded"),
        **{c: await scrape(stack, c, "arkive_consumer_events_total", result="processed") for c in CONSUMERS},
        "retention_deleted": await scrape(stack, "retention", "arkive_retention_deleted_versions_total"),
        "retention_runs": await scrape(stack, "retention", "arkive_retention_runs_total", result="ok"),
        "gc_runs": await scrape(stack, "hashing", "arkive_gc_runs_total", result="ok"),
    }
    payload = uuid.uuid4().bytes * 1024  # 16 KiB no other test stored
    (tmp_path / "m.bin").write_bytes(payload)
    project = f"metrics-{uuid.uuid4().hex[:8]}"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("m", type="dataset")
        art.add_file(str(tmp_path / "m.bin"))
        version = await client.log_artifact(art)
        await version.download(str(tmp_path / "out"))
        assert (tmp_path / "out" / "m.bin").read_bytes() == payload

        # bus RPCs counted by the gateway (client side) and by ingest (server side, with latency)
        assert (
            await scrape(stack, "gateway", "arkive_bus_rpc_calls_total", side="client", service="ingest")
            > (before["gw_client"])
        )
        assert (
            await scrape(stack, "ingest", "arkive_bus_rpc_calls_total", side="server", outcome="OK")
            > (before["ingest_server"])
        )
        assert await scrape(stack, "ingest", "arkive_bus_rpc_seconds_count", side="server") > before["ingest_latency"]
        # the blob went up and came back down through the gateway
        assert await scrape(stack, "gateway", "arkive_blob_bytes_total", direction="uploaded") >= (
            before["up"] + len(payload)
        )
        assert await scrape(stack, "gateway", "arkive_blob_bytes_total", direction="downloaded") >= (
            before["down"] + len(payload)
        )

        # each consumer applied the commit, and its lag gauge is sampled from JetStream
        async def consumed() -> None:
            for c in CONSUMERS:
                assert await scrape(stack, c, "arkive_consumer_events_total", result="processed") > before[c], c
                pending = await metric_samples(stack.health_ports[c], "arkive_consumer_pending_messages")
                assert pending, (c, "no consumer lag sampled")

        await assert_eventually(consumed, timeout=20)
        chunker = await metric_samples(stack.health_ports["hashing"], "arkive_consumer_pending_messages")
        assert any(dict(k).get("consumer") == DURABLE for k in chunker), chunker  # hashing's own pull loop samples

        digests = [f.digest async for f in version.files()]
        # retention: a version whose TTL ran out is deleted by an apply, which is counted
        await client.set_ttl(version, timedelta(seconds=1))

        async def applied() -> None:
            result = await client.retention_apply(as_of=time.time() + 3600)
            assert result.deleted == 1

        await assert_eventually(applied, timeout=20)
        assert await scrape(stack, "retention", "arkive_retention_deleted_versions_total") == (
            before["retention_deleted"] + 1
        )
        assert await scrape(stack, "retention", "arkive_retention_runs_total", result="ok") > before["retention_runs"]

        # a collection limited to this test's blob (kept: the deleted version is undeletable for a while)
        gc_started = time.time()
        await client.collect_garbage(timedelta(0), digests=digests)
        assert await scrape(stack, "hashing", "arkive_gc_runs_total", result="ok") == before["gc_runs"] + 1
        assert await scrape(stack, "hashing", "arkive_gc_last_success_timestamp_seconds") >= int(gc_started)


async def test_outbox_and_dead_letter_gauges_follow_the_database(stack):
    """The sampled gauges report what the tables hold: a dead letter parked for a consumer shows up
    in every process's gauge, and goes back to 0 once removed."""
    consumer = f"metrics-{uuid.uuid4().hex[:8]}"
    failure = deadletters.Failure(consumer, "x.events.test.Nothing", 1, b"\x00", None, "test failure")
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
    try:
        letter = await deadletters.park(pool, failure, 5)

        async def counted(expected: float) -> None:
            for service in ("ingest", "lineage"):
                samples = await metric_samples(stack.health_ports[service], "arkive_dead_letters")
                assert value(samples, consumer=consumer) == expected, (service, samples)

        await assert_eventually(lambda: counted(1), timeout=15)
        await deadletters.remove(pool, letter)
        await assert_eventually(lambda: counted(0), timeout=15)
    finally:
        await pool.close()
    # the outbox gauges are sampled too (their timestamp advances) and read an empty-ish outbox
    port = stack.health_ports["ingest"]
    first = value(await metric_samples(port, "arkive_lag_sampled_timestamp_seconds"))

    async def resampled() -> None:
        assert value(await metric_samples(port, "arkive_lag_sampled_timestamp_seconds")) > first

    await assert_eventually(resampled, timeout=15)
    assert value(await metric_samples(port, "arkive_outbox_oldest_event_age_seconds")) >= 0
