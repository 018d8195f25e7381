"""The reconciler: events of the log that never reached a consumer over the bus are re-driven from
the log by `arkive admin check` and by the periodic run, exactly once. Own deployment (0.3 s margin)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

import pytest
from support import assert_eventually

from arkive_common import bus
from arkive_common.events import VersionsDeleted
from arkive_common.reconcile import Reconciler

from .consumer_helpers import Deployment, committed

pytestmark = pytest.mark.usefixtures("isolated")


def by_consumer(doc: dict) -> dict[str, dict]:
    return {c["consumer"]: c for c in doc["consumers"]}


async def check(d: Deployment, code: int = 0) -> dict[str, dict]:
    """`arkive admin check --json`, which exits with `code`."""
    doc = await d.cli_json("admin", "check", code=code)
    assert doc["ok"] is (code == 0)
    return by_consumer(doc)


async def sdk_check(d: Deployment) -> dict[str, dict]:
    """The same through the SDK (a CLI process per call is slow on a busy machine)."""
    async with d.client() as client:
        return {c.consumer: c.to_dict() for c in await client.check_consumers()}


async def settled(d: Deployment) -> None:
    """Waits until the margin has passed for everything appended so far."""
    await d.pool.execute("SELECT pg_sleep($1)", d.settings.reconcile_margin + 0.05)


async def test_check_redrives_an_event_the_bus_lost_once(isolated: Deployment):
    p = "rc" + uuid.uuid4().hex[:8]
    before = await sdk_check(isolated)
    lost = committed(p, "lost")
    await isolated.append_bypassing_bus(f"collection-{p}/lost", lost)
    await settled(isolated)
    after = await sdk_check(isolated)
    for name in ("lineage", "retention"):
        assert after[name]["redriven"] == 1 and after[name]["still_missing"] == 0, after
        assert after[name]["expected"] == before[name]["expected"] + 1
        assert after[name]["processed"] == before[name]["processed"] + 1
        assert after[name]["position"] > before[name]["position"]
    assert await isolated.pool.fetchval("SELECT 1 FROM retention_versions WHERE version_id = $1", lost.version_id)
    assert await isolated.pool.fetchval("SELECT 1 FROM lineage_nodes WHERE node_id = $1", lost.version_id)
    # A consumer with no events of its own (the chunk indexer: BlobStored only) moves its mark too.
    assert after["hashing-chunker"]["position"] == after["lineage"]["position"]
    again = await check(isolated)
    assert all(c["redriven"] == 0 and c["still_missing"] == 0 for c in again.values()), again
    assert {n: c["position"] for n, c in again.items()} == {n: c["position"] for n, c in after.items()}
    table = await isolated.cli("admin", "check")  # the table for people
    assert table.returncode == 0 and "retention" in table.stdout and "still missing" not in table.stderr, table


async def test_check_exits_1_while_an_event_waits_and_redrives_in_log_order(isolated: Deployment):
    p = "rc" + uuid.uuid4().hex[:8]
    first = committed(p, "ordered")
    deletion = VersionsDeleted(project=p, name="ordered", version_ids=[first.version_id], versions=[0], reason="t",
                               deleted_at=1.0)  # fmt: skip
    # The deletion is in the log without its version's commit: it cannot be applied yet.
    await isolated.append_bypassing_bus(f"collection-{p}/ordered", deletion)
    await settled(isolated)
    with isolated.wait_limit(120):  # not parked while the CLI starts on a busy machine
        waiting = await check(isolated, code=1)
    assert [waiting[n]["still_missing"] for n in ("lineage", "retention")] == [1, 1], waiting
    assert waiting["hashing-chunker"]["still_missing"] == 0
    # The commit shows up later in the log (also without the bus): the next check applies both,
    # the deletion after the commit although it comes first in the log.
    await isolated.append_bypassing_bus(f"collection-{p}/ordered", first)
    await settled(isolated)
    done = await sdk_check(isolated)
    assert [(done[n]["redriven"], done[n]["still_missing"]) for n in ("lineage", "retention")] == [(2, 0)] * 2
    row = await isolated.pool.fetchrow("SELECT deleted_at FROM retention_versions WHERE version_id = $1",
                                       first.version_id)  # fmt: skip
    assert row is not None and row["deleted_at"] is not None


async def test_check_parks_an_event_that_waited_too_long(isolated: Deployment):
    p = "rc" + uuid.uuid4().hex[:8]
    never = committed(p, "never")  # its commit is never logged
    deletion = VersionsDeleted(project=p, name="never", version_ids=[never.version_id], versions=[0], reason="t",
                               deleted_at=1.0)  # fmt: skip
    before = await sdk_check(isolated)
    env = await isolated.append_bypassing_bus(f"collection-{p}/never", deletion)
    await isolated.pool.execute("SELECT pg_sleep($1)", isolated.settings.consumer_wait_limit + 0.1)
    after = await sdk_check(isolated)
    for name in ("lineage", "retention"):
        assert after[name]["still_missing"] == 0 and after[name]["redriven"] == 0, after
        assert after[name]["dead_letters"] == before[name]["dead_letters"] + 1
        assert after[name]["expected"] == before[name]["expected"] + 1  # expected, but parked: not processed
        assert after[name]["processed"] == before[name]["processed"]
    rows = await isolated.pool.fetch("SELECT consumer, stream_seq, error FROM dead_letters WHERE event_id = $1", env.id)
    assert sorted(r["consumer"] for r in rows) == ["lineage", "retention"]
    assert all(r["stream_seq"] is None and r["error"].startswith("waited") for r in rows)


async def test_periodic_reconciler_applies_a_lost_event(isolated: Deployment):
    consumer = next(r for r in isolated.runtimes["retention"].runnables if getattr(r, "name", "") == "retention")
    periodic = Reconciler(consumer, isolated.pool, category="collection", margin=0.3, interval=0.2)
    task = asyncio.create_task(periodic.run())
    try:
        lost = committed("rc" + uuid.uuid4().hex[:8], "periodic")
        await isolated.append_bypassing_bus(f"collection-{lost.project}/periodic", lost)

        async def applied():
            sql = "SELECT 1 FROM retention_versions WHERE version_id = $1"
            assert await isolated.pool.fetchval(sql, lost.version_id), "not re-driven yet"

        await assert_eventually(applied, timeout=10)
    finally:
        await periodic.shutdown()
        await task


async def test_stream_settings_that_differ_are_reported_in_one_warning(infra, caplog):
    caplog.set_level(logging.WARNING, logger="arkive_common.bus")
    prefix = "st" + uuid.uuid4().hex[:8]
    nc = await bus.connect(infra.nats_url, "stream-check")
    js = nc.jetstream()
    name = prefix.upper()
    try:
        assert await bus.ensure_stream(js, name, prefix) == []  # created as configured
        assert await bus.ensure_stream(js, name, prefix) == []  # and found so
        assert caplog.records == []
        differences = await bus.ensure_stream(js, name, prefix, replicas=3)
        assert differences == ["replicas 1 (configured: 3)"]
        (record,) = caplog.records
        assert record.levelname == "WARNING" and name in record.getMessage() and "replicas 1" in record.getMessage()
        await js.update_stream(dataclasses.replace((await js.stream_info(name)).config, duplicate_window=30.0))
        assert await bus.ensure_stream(js, name, prefix) == ["duplicate window 30s (configured: 120s)"]
        other = f"{prefix}x"  # a second deployment's prefix on the same stream: its subjects are added
        assert await bus.ensure_stream(js, name, other) == [
            "duplicate window 30s (configured: 120s)",
            f"subjects ['{prefix}.events.>'] lack ['{other}.events.>'] (added)",
        ]
        assert (await js.stream_info(name)).config.subjects == [f"{prefix}.events.>", f"{other}.events.>"]
        assert len(caplog.records) == 3  # one line per start-up check that found differences
    finally:
        await js.delete_stream(name)
        await nc.drain()
