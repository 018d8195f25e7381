"""Collection state snapshots (services/ingest/arkive_ingest/snapshots.py) against the real event log:
a load from a snapshot plus the events after it equals the full replay, for both folds; a snapshot of
other code is ignored and replaced."""

from __future__ import annotations

import time
import uuid

import asyncpg
import pytest

from arkive_common import eventlog
from arkive_common.events import AliasAssigned, CollectionCreated, Event, VersionCommitted, VersionMetadataUpdated
from arkive_ingest import domain, domain_catalog, snapshots
from arkive_ingest.annotate import load_catalog
from arkive_ingest.handlers import collection_stream, load_collection


@pytest.fixture
async def conn(stack):
    c = await asyncpg.connect(stack.database_url)
    yield c
    await c.close()


def _history(project: str, name: str, versions: int, start: int = 0) -> list[Event]:
    """A collection's events as ingest would append them (a rebuild replays them: keep them valid)."""
    now = time.time()
    events: list[Event] = [CollectionCreated(project=project, name=name, type="dataset", created_at=now)]
    for n in range(start, start + versions):
        vid = uuid.uuid4().hex
        events.append(
            VersionCommitted(
                version_id=vid,
                project=project,
                name=name,
                type="dataset",
                version=n,
                manifest_digest=f"sha256:{n:064x}",
                file_count=1,
                total_size=n,
                draft_id=uuid.uuid4().hex,
                metadata={"n": n, "f": n / 2},
                tags=[f"t{n % 3}"],
                created_at=now,
            )
        )
        events.append(AliasAssigned(project=project, name=name, alias="latest", version_id=vid, version=n))
        if n % 10 == 0:
            events.append(
                VersionMetadataUpdated(
                    project=project, name=name, version_id=vid, version=n, metadata={"n": -n}, updated_at=now
                )
            )
    return events


async def _append(conn: asyncpg.Connection, stream: str, events: list[Event]) -> None:
    async with conn.transaction():
        await eventlog.append(conn, [eventlog.Append(stream, events, None)])


async def _replayed(conn: asyncpg.Connection, stream: str, initial, evolve):
    state = initial
    for env in await eventlog.read_stream(conn, stream):
        state = evolve(state, env.event())
    return state


async def _snapshot_row(conn: asyncpg.Connection, stream: str, kind: str):
    return await conn.fetchrow("SELECT * FROM ingest_snapshots WHERE stream_id = $1 AND kind = $2", stream, kind)


async def test_a_load_from_a_snapshot_equals_the_full_replay(conn):
    project, name = "snap" + uuid.uuid4().hex[:8], "big"
    stream = collection_stream(project, name)
    await _append(conn, stream, _history(project, name, 60))  # 60 x 2 + 6 + 1 = 127 events

    async with conn.transaction():
        first = await load_collection(conn, project, name)
        catalog = await load_catalog(conn, project, name)
    assert first == await _replayed(conn, stream, domain.Collection(), domain.evolve)
    assert catalog == await _replayed(conn, stream, domain_catalog.Catalog(), domain_catalog.evolve)
    assert first.stream_version == 127 and len(first.versions) == 60
    for kind in ("collection", "catalog"):  # written: 127 events were replayed
        assert (await _snapshot_row(conn, stream, kind))["stream_version"] == 127

    # Events after the snapshot are folded on top of it; too few of them to write a new one.
    more = _history(project, name, 3, start=60)[1:]  # v60-v62, without a second CollectionCreated
    await _append(conn, stream, more)
    async with conn.transaction():
        again = await load_collection(conn, project, name)
        catalog = await load_catalog(conn, project, name)
    assert again == await _replayed(conn, stream, domain.Collection(), domain.evolve)
    assert catalog == await _replayed(conn, stream, domain_catalog.Catalog(), domain_catalog.evolve)
    assert len(again.versions) == 63 and (await _snapshot_row(conn, stream, "collection"))["stream_version"] == 127


async def test_a_snapshot_of_other_code_is_ignored_and_replaced(conn):
    project, name = "snap" + uuid.uuid4().hex[:8], "old"
    stream = collection_stream(project, name)
    await _append(conn, stream, _history(project, name, 40))
    # A snapshot as an older version of the domain code might have left it: a wrong state.
    stale = domain.Collection(exists=True, type="model", stream_version=5)
    await conn.execute(
        "INSERT INTO ingest_snapshots (stream_id, kind, fingerprint, stream_version, state)"
        " VALUES ($1, $2, $3, $4, $5)",
        stream,
        "collection",
        "an-older-domain",
        5,
        snapshots.msgspec.msgpack.encode(stale),
    )
    async with conn.transaction():
        state = await load_collection(conn, project, name)
    assert state == await _replayed(conn, stream, domain.Collection(), domain.evolve)
    assert state.type == "dataset" and len(state.versions) == 40
    row = await _snapshot_row(conn, stream, "collection")
    assert row["fingerprint"] == snapshots.fingerprint(domain) and row["stream_version"] == state.stream_version
