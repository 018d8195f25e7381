"""The event log, outbox relay and consumers against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import random
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from arkive_core.errors import Conflict, InvalidArgument
from support import assert_eventually

from arkive_common import bus, db, eventlog
from arkive_common.consumer import EventConsumer
from arkive_common.events import DraftCreated
from arkive_common.outbox import OutboxRelay


def draft_event(draft_id: str) -> DraftCreated:
    return DraftCreated(draft_id=draft_id, project="p", name="n", type="t", created_at=1.0)


@pytest.fixture
async def pool(infra):
    """A database of its own: the stack's relays must not publish this test's outbox, nor this
    test's relay theirs."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra.database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(infra.database_url)
    p = await db.create_pool(urlunsplit(parts._replace(path=f"/{name}")), max_size=20)
    await db.migrate(p, "eventlog", eventlog.MIGRATIONS)
    yield p
    await p.close()
    await admin.execute(f"DROP DATABASE {name}")
    await admin.close()


async def append_one(pool, stream: str, expected: int | None, delay: float = 0.0):
    async with pool.acquire() as conn, conn.transaction():
        envs = await eventlog.append(conn, [eventlog.Append(stream, [draft_event(stream)], expected)])
        await asyncio.sleep(delay)  # commit late, while others commit
        return envs


async def test_update_delete_truncate_are_refused(pool):
    stream = f"test-{uuid.uuid4().hex}"
    await append_one(pool, stream, 0)
    for sql in ("UPDATE events SET type = 'x' WHERE stream_id = $1", "DELETE FROM events WHERE stream_id = $1"):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await pool.execute(sql, stream)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await pool.execute("TRUNCATE events")
    assert len(await eventlog.read_stream(pool, stream)) == 1


async def test_optimistic_concurrency(pool):
    stream = f"test-{uuid.uuid4().hex}"
    await append_one(pool, stream, 0)
    with pytest.raises(Conflict):
        await append_one(pool, stream, 0)
    await append_one(pool, stream, 1)
    assert [e.stream_version for e in await eventlog.read_stream(pool, stream)] == [1, 2]


async def test_an_event_too_large_to_publish_is_refused_and_nothing_written(pool):
    huge = DraftCreated(
        draft_id="d-huge", project="p", name="n" * (eventlog.MAX_EVENT_BYTES + 1), type="t", created_at=1
    )
    async with pool.acquire() as conn:
        with pytest.raises(InvalidArgument, match="exceeds"):
            async with conn.transaction():
                await eventlog.append(
                    conn, [eventlog.Append("s-ok", [draft_event("d-ok")], 0), eventlog.Append("s-huge", [huge], 0)]
                )
    assert await pool.fetchval("SELECT count(*) FROM events") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_tailing_reader_never_skips_a_late_commit(pool):
    start = await pool.fetchval("SELECT coalesce(max(position), 0) FROM events")
    streams = [f"tail-{uuid.uuid4().hex}" for _ in range(40)]
    seen: list[str] = []
    done = asyncio.Event()

    async def tail():
        position = start
        while True:
            # Read "done" before reading the log: an empty read that began before the last commit
            # must not end the tail (the test's race, not the log's).
            finished = done.is_set()
            batch = await eventlog.read_all(pool, position, 100)
            seen.extend(e.stream_id for e in batch if e.stream_id.startswith("tail-"))
            if batch:
                position = batch[-1].position
            elif finished:
                return
            await asyncio.sleep(0.001)

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(append_one(pool, s, 0, random.uniform(0, 0.05)) for s in streams))
    done.set()
    await reader
    assert sorted(seen) == sorted(streams)  # every event seen exactly once by a checkpointing reader


async def test_relay_publishes_committed_events_only_and_consumer_applies_once(pool, infra):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    nc = await bus.connect(infra.nats_url, "test")
    js = nc.jetstream()
    stream_name = prefix.upper()
    await bus.ensure_stream(js, stream_name, prefix)
    committed = f"committed-{uuid.uuid4().hex}"
    await append_one(pool, committed, 0)
    rolled_back = f"rolledback-{uuid.uuid4().hex}"
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await eventlog.append(conn, [eventlog.Append(rolled_back, [draft_event(rolled_back)], 0)])
            raise RuntimeError("abort")
    applied: list[str] = []

    async def handler(conn, env):
        applied.append(env.stream_id)

    relay = OutboxRelay(pool, js, prefix)
    consumer = EventConsumer(
        js, pool, stream=stream_name, durable=f"c{prefix}", filter_subject=f"{prefix}.events.>", handler=handler
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:

        async def got_it():
            assert committed in applied

        await assert_eventually(got_it, timeout=15)
        assert rolled_back not in applied
        env = (await eventlog.read_stream(pool, committed))[0]
        assert await consumer.handle(env) is False  # a redelivery has no effect
        assert applied.count(committed) == 1
    finally:
        await relay.shutdown()
        await consumer.shutdown()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()
