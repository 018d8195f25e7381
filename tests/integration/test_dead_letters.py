"""Poison messages on the events stream: bounded deliveries, then the dead-letter table; the events
behind them keep flowing; `arkive admin dead-letters` lists them and `--retry` re-drives one.
Runs on a deployment of its own with 3 failures allowed, 0.1/0.2 s backoff and a 1.5 s wait limit."""

from __future__ import annotations

import logging
import uuid

import msgspec
import pytest
from support import assert_eventually

from arkive import FailedPrecondition, NotFound
from arkive_common.events import VersionsDeleted, encode_envelope

from .consumer_helpers import Deployment, committed, envelope

pytestmark = pytest.mark.usefixtures("isolated")


def project() -> str:
    return "dl" + uuid.uuid4().hex[:10]


async def letters(d: Deployment, **match) -> list[dict]:
    """The dead letters as `arkive admin dead-letters --json` lists them."""
    doc = await d.cli_json("admin", "dead-letters")
    return [x for x in doc["dead_letters"] if all(x[k] == v for k, v in match.items())]


async def parked_rows(d: Deployment, event_id: str) -> list[dict]:
    """Polled straight from the table (a CLI process per poll would be slow)."""
    rows = await d.pool.fetch("SELECT * FROM dead_letters WHERE event_id = $1 ORDER BY consumer", event_id)
    assert [r["consumer"] for r in rows] == ["lineage", "retention"]
    return [dict(r) for r in rows]


async def retention_version(d: Deployment, version_id: str):
    return await d.pool.fetchrow("SELECT * FROM retention_versions WHERE version_id = $1", version_id)


async def lineage_node(d: Deployment, version_id: str):
    return await d.pool.fetchrow("SELECT * FROM lineage_nodes WHERE node_id = $1", version_id)


async def eventually_row(fetch, *args, timeout: float = 10.0):
    async def present():
        row = await fetch(*args)
        assert row is not None, f"{fetch.__name__}{args[1:]} not there yet"
        return row

    return await assert_eventually(present, timeout=timeout)


async def test_undecodable_message_is_parked_once_and_later_events_flow(isolated: Deployment, caplog):
    caplog.set_level(logging.WARNING, logger="arkive_common.consumer")
    subject = f"Garbage{uuid.uuid4().hex[:6]}"
    await isolated.publish(subject, b"\xff not msgpack at all")
    later = committed(project(), "after-poison")
    await isolated.publish_event(f"collection-{later.project}/{later.name}", later)

    async def parked_by_both():
        rows = await isolated.pool.fetch(
            "SELECT consumer, event_id, deliveries, error, data FROM dead_letters WHERE subject LIKE $1",
            f"%.{subject}",
        )
        assert sorted(r["consumer"] for r in rows) == ["lineage", "retention"]
        return rows

    rows = await assert_eventually(parked_by_both, timeout=20)
    for r in rows:
        assert r["event_id"] is None and r["deliveries"] == 3 and r["data"] == b"\xff not msgpack at all"
        assert r["error"].startswith(("DecodeError", "ValidationError")), r["error"]
    await eventually_row(retention_version, isolated, later.version_id)
    assert await lineage_node(isolated, later.version_id)

    # One warning when it first failed and one error when it was parked, per consumer; no tracebacks.
    mine = [r for r in caplog.records if subject in r.getMessage()]
    assert sorted((r.levelname, r.getMessage().split(":")[0]) for r in mine) == [
        ("ERROR", "consumer lineage"),
        ("ERROR", "consumer retention"),
        ("WARNING", "consumer lineage"),
        ("WARNING", "consumer retention"),
    ], [r.getMessage() for r in mine]
    assert all(r.exc_info is None for r in mine)

    listed = [x for x in await letters(isolated) if x["subject"].endswith(subject)]
    assert {x["consumer"] for x in listed} == {"lineage", "retention"}
    assert all(x["event_id"] == "" and x["deliveries"] == 3 and x["stream_seq"] > 0 for x in listed)
    p = await isolated.cli("admin", "dead-letters", "--retry", str(listed[0]["id"]))
    assert p.returncode == 1 and "FAILED_PRECONDITION" in p.stderr and "cannot be decoded" in p.stderr, p.stderr


async def test_handler_that_always_fails_is_parked_and_retry_keeps_it(isolated: Deployment):
    # Decodes as an envelope, but its event data does not decode as the type it names.
    broken = envelope(f"collection-{project()}/broken", committed("x", "y"))
    broken = msgspec.structs.replace(broken, data=b"\x01\x02 not a VersionCommitted")
    await isolated.publish(broken.type, encode_envelope(broken))

    await assert_eventually(lambda: parked_rows(isolated, broken.id), timeout=20)
    async with isolated.client() as client:  # the SDK's view of the same calls
        found = [d for d in await client.dead_letters() if d.event_id == broken.id]
        assert all(d.deliveries == 3 and d.event_type == "VersionCommitted" for d in found), found
        with pytest.raises(FailedPrecondition, match="still fails"):
            await client.retry_dead_letter(found[0].id)
        (again,) = [d for d in await client.dead_letters() if d.id == found[0].id]
    assert again.deliveries == 4 and again.last_failure >= found[0].last_failure


async def test_event_waiting_for_an_earlier_one_does_not_block_and_retry_applies_it(isolated: Deployment):
    p = project()
    stream = f"collection-{p}/waits"
    first = committed(p, "waits")  # its commit "arrives" only later
    deletion = VersionsDeleted(
        project=p, name="waits", version_ids=[first.version_id], versions=[0], reason="test", deleted_at=1.0
    )
    denv = await isolated.publish_event(stream, deletion, stream_version=2)
    other = committed(p, "other")
    await isolated.publish_event(f"collection-{p}/other", other)
    # The deletion waits (NotYet, not a failure): the event behind it is applied meanwhile.
    await eventually_row(retention_version, isolated, other.version_id)
    assert await isolated.pool.fetchval("SELECT count(*) FROM dead_letters WHERE event_id = $1", denv.id) == 0

    found = await assert_eventually(lambda: parked_rows(isolated, denv.id), timeout=20)
    assert all("waited" in x["error"] and "earlier event" in x["error"] for x in found)

    # The cause goes away: the commit arrives. Retrying the dead letter applies the deletion once.
    await isolated.publish_event(stream, first, stream_version=1)
    await eventually_row(retention_version, isolated, first.version_id)
    await eventually_row(lineage_node, isolated, first.version_id)
    lineage_letter, retention_letter = found
    doc = await isolated.cli_json("admin", "dead-letters", "--retry", str(retention_letter["id"]))
    assert doc == {"id": retention_letter["id"], "consumer": "retention", "event_id": denv.id, "applied": True}
    async with isolated.client() as client:
        result = await client.retry_dead_letter(lineage_letter["id"])
        assert result == {"id": lineage_letter["id"], "consumer": "lineage", "event_id": denv.id, "applied": True}
        with pytest.raises(NotFound):
            await client.retry_dead_letter(lineage_letter["id"])
    assert (await retention_version(isolated, first.version_id))["deleted_at"] is not None
    assert (await lineage_node(isolated, first.version_id))["deleted_at"] is not None
    assert await isolated.pool.fetchval("SELECT count(*) FROM dead_letters WHERE event_id = $1", denv.id) == 0


async def test_chunk_indexer_parks_a_poison_blob_event(isolated: Deployment):
    data = b"\x93 three items, then garbage"
    await isolated.js.publish(f"{isolated.prefix}.events.blob.BlobStored", data)

    async def parked():
        sql = "SELECT deliveries FROM dead_letters WHERE consumer = 'hashing-chunker' AND data = $1"
        assert await isolated.pool.fetchval(sql, data) == 3

    await assert_eventually(parked, timeout=20)
    async with isolated.client() as client:
        (letter,) = [
            d for d in await client.dead_letters() if d.consumer == "hashing-chunker" and d.data_size == len(data)
        ]
        assert letter.event_id == "" and letter.subject.endswith(".events.blob.BlobStored")
        with pytest.raises(FailedPrecondition, match="cannot be decoded"):
            await client.retry_dead_letter(letter.id)


async def test_an_undecodable_message_parked_again_keeps_one_row(isolated: Deployment):
    """A consumer killed between parking and acking gets the message again and parks it again: the
    row is updated, not duplicated, though the message has no event id to key it by."""
    from arkive_common import deadletters

    consumer = "crashy" + uuid.uuid4().hex[:6]
    failure = deadletters.Failure(consumer, "arkive.events.Garbage", 41, b"\xff", None, "DecodeError: first")
    first = await deadletters.park(isolated.pool, failure, 3)
    again = deadletters.Failure(consumer, "arkive.events.Garbage", 41, b"\xff", None, "DecodeError: again")
    assert await deadletters.park(isolated.pool, again, 3) == first
    other = deadletters.Failure(consumer, "arkive.events.Garbage", 42, b"\xfe", None, "DecodeError: other")
    assert await deadletters.park(isolated.pool, other, 3) != first

    rows = await deadletters.list_for(isolated.pool, consumer)
    assert [(r.stream_seq, r.deliveries, r.error) for r in rows] == [
        (41, 6, "DecodeError: again"),
        (42, 3, "DecodeError: other"),
    ]
