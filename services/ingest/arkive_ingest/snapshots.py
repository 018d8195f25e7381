"""Snapshots of a collection's decision state, so a command does not replay the collection's whole
stream: load = the latest snapshot + the events after it.

Why: every command on a collection loads its state from the event log, and replaying a stream of N
events (each `evolve` copying the versions tuple) made a collection's N-th commit cost O(N^2): one
collection filled at 4.6 versions/s at first and at 2.3 by its 3,000th version.

A snapshot is a cache of `fold(evolve, events[1..stream_version])`, nothing more: events never change,
so it stays true, and the log stays the source of truth. It is written in the transaction of a
command that replayed at least SNAPSHOT_EVERY events past the last one (rolled back with it), and is
keyed by a fingerprint of the code that folds it: after any change to the domain modules an old
snapshot is ignored and replaced by the next command. Rebuilding projections leaves them: they
derive from the log alone, and a rebuild locking them (after the read model's tables) would deadlock
with a command, which reads its snapshot first and the read model after.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import TypeVar

import asyncpg
import msgspec

from arkive_common import eventlog
from arkive_common.events import Event

SNAPSHOT_EVERY = 64  # events replayed past the last snapshot before a command writes a new one

# Appended to projection.MIGRATIONS (released steps are never edited).
MIGRATION = """
CREATE TABLE ingest_snapshots (
    stream_id text NOT NULL,
    kind text NOT NULL,              -- which fold: "collection" (domain) or "catalog" (domain_catalog)
    fingerprint text NOT NULL,       -- of the folding code: another one means "ignore me"
    stream_version int NOT NULL,     -- the last event folded in
    state bytea NOT NULL,
    PRIMARY KEY (stream_id, kind));
"""

S = TypeVar("S")


@cache
def fingerprint(*modules: ModuleType) -> str:
    """A digest of the source of the modules whose code folds the state."""
    h = hashlib.sha256()
    for module in modules:
        try:
            h.update(inspect.getsource(module).encode())
        except (OSError, TypeError):  # no source shipped: the module's name and file stand in
            h.update(f"{module.__name__}:{getattr(module, '__file__', '')}".encode())
    return h.hexdigest()[:32]


async def load(
    conn: asyncpg.Connection,
    stream_id: str,
    *,
    kind: str,
    state_type: type[S],
    initial: S,
    evolve: Callable[[S, Event], S],
    code: tuple[ModuleType, ...],
) -> S:
    """The state after every event of `stream_id`: from its snapshot if one of this code exists, then
    the events after it; writes a new snapshot when many events had to be replayed."""
    mark = fingerprint(*code)
    row = await conn.fetchrow(
        "SELECT stream_version, state FROM ingest_snapshots WHERE stream_id = $1 AND kind = $2 AND fingerprint = $3",
        stream_id,
        kind,
        mark,
    )
    state, since = initial, 0
    if row is not None:
        state, since = msgspec.msgpack.decode(row["state"], type=state_type), row["stream_version"]
    events = await eventlog.read_stream(conn, stream_id, since)
    for env in events:
        state = evolve(state, env.event())
    if len(events) >= SNAPSHOT_EVERY:
        await conn.execute(
            "INSERT INTO ingest_snapshots (stream_id, kind, fingerprint, stream_version, state)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream_id, kind) DO UPDATE"
            " SET fingerprint = EXCLUDED.fingerprint, stream_version = EXCLUDED.stream_version, state = EXCLUDED.state"
            " WHERE ingest_snapshots.fingerprint <> EXCLUDED.fingerprint"
            " OR ingest_snapshots.stream_version < EXCLUDED.stream_version",
            stream_id,
            kind,
            mark,
            events[-1].stream_version,
            msgspec.msgpack.encode(state),
        )
    return state
