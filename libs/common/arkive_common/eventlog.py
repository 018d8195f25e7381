"""The append-only event log in PostgreSQL: the source of truth every read model is rebuilt from.

* Optimistic concurrency: UNIQUE (stream_id, stream_version); appending at an expected version that
  moved on fails with `Conflict`, and the caller re-reads and retries.
* A global `position` that tailing readers can never skip past: appends are serialized by a
  transaction-scoped advisory lock taken just before the INSERT and held until COMMIT, so positions
  become visible in increasing order (no transaction with a lower position can commit later).
  The lock is held only for the insert and the commit: callers write their projections first and
  append last. Positions may have gaps (rolled-back appends) but never appear out of order.
* UPDATE, DELETE and TRUNCATE on `events` are refused by triggers.
* The same transaction writes the outbox rows that the relay publishes after commit.
* An event larger than MAX_EVENT_BYTES is refused before anything is written: the relay could never
  publish it (NATS' default max payload is 1 MiB) and would stall every event behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from arkive_core.errors import Conflict, InvalidArgument
from prometheus_client import Counter

from . import context, tracing
from .events import Envelope, Event, encode_event, event_type

APPEND_LOCK = 0x61726B65  # "arke"
OUTBOX_CHANNEL = "arkive_outbox"
# Below NATS' 1 MiB default max payload, leaving room for the envelope and headers.
MAX_EVENT_BYTES = 960 * 1024
# What a command puts in one event of many items (split_items): far below MAX_EVENT_BYTES whatever
# the items' characters, so a command of any size (within its own per-call limit) fits the log.
ITEM_BYTES_PER_EVENT = 256 * 1024
# Counted once inserted: append is the transaction's last statement, so a commit failing after it
# (counted, not kept) is rare.
EVENTS_APPENDED = Counter("arkive_events_appended_total", "Events appended to the event log by this process", ["type"])

T = TypeVar("T")


def split_items(items: Sequence[T], size_of: Callable[[T], int], budget: int = ITEM_BYTES_PER_EVENT) -> list[list[T]]:
    """Consecutive slices of `items` of at most `budget` bytes each (by size_of; a larger single
    item is a slice of its own), in order: one event each. No items: no slices."""
    out: list[list[T]] = []
    size = 0
    for item in items:
        n = size_of(item)
        if not out or (out[-1] and size + n > budget):
            out.append([])
            size = 0
        out[-1].append(item)
        size += n
    return out


MIGRATIONS: list[str] = [
    """
    CREATE TABLE events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version int NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        schema_version int NOT NULL,
        data bytea NOT NULL,
        causation_id text NOT NULL DEFAULT '',
        correlation_id text NOT NULL DEFAULT '',
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (stream_id, stream_version)
    );
    CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
    CREATE TABLE outbox (position bigint PRIMARY KEY);
    CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    );
    """,
    # who asked for each event (the authenticated principal at the gateway; "" = the system itself)
    "ALTER TABLE events ADD COLUMN principal text NOT NULL DEFAULT ''",
    # the W3C traceparent of the span that appended it ("" = untraced): the relay passes it on (tracing.py)
    "ALTER TABLE events ADD COLUMN traceparent text NOT NULL DEFAULT ''",
]


@dataclass(frozen=True, slots=True)
class Append:
    """Events for one stream, to be written only if the stream is at `expected_version`.

    expected_version is the number of events the stream had when the caller read it (0 = new stream);
    None appends whatever the stream's version is (for streams with a single writer by construction).
    """

    stream_id: str
    events: Sequence[Event]
    expected_version: int | None


def _row_to_envelope(row: asyncpg.Record) -> Envelope:
    return Envelope(
        id=str(row["id"]),
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        type=row["type"],
        schema_version=row["schema_version"],
        data=bytes(row["data"]),
        position=row["position"],
        causation_id=row["causation_id"],
        correlation_id=row["correlation_id"],
        recorded_at=row["recorded_at"].timestamp(),
        principal=row["principal"],
        traceparent=row["traceparent"],
    )


_COLUMNS = (
    "position, id, stream_id, stream_version, type, schema_version, data, causation_id, correlation_id,"
    " recorded_at, principal, traceparent"
)


async def append(
    conn: asyncpg.Connection,
    appends: Sequence[Append],
    *,
    causation_id: str = "",
    correlation_id: str = "",
) -> list[Envelope]:
    """Appends atomically to one or more streams inside the caller's transaction.

    Call it last in the transaction (it takes the global append lock). Raises Conflict when a
    stream is not at its expected version; the transaction is then unusable and must be retried.
    The principal and, unless given, the correlation and causation ids come from the call being
    served (arkive_common.context): a command's events are caused by that call.
    """
    call = context.current()
    correlation_id = correlation_id or call.correlation_id
    causation_id = causation_id or call.correlation_id
    if not conn.is_in_transaction():
        raise RuntimeError("append() must run inside a transaction")
    ids, streams, versions, types, schemas, datas = [], [], [], [], [], []
    await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK)
    for a in appends:
        current = await conn.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", a.stream_id
        )
        if a.expected_version is not None and current != a.expected_version:
            raise Conflict(f"stream {a.stream_id} is at version {current}, expected {a.expected_version}; retry")
        for offset, event in enumerate(a.events, start=1):
            ids.append(uuid.uuid4())
            streams.append(a.stream_id)
            versions.append(current + offset)
            types.append(event_type(event))
            schemas.append(type(event).schema_version)
            data = encode_event(event)
            if len(data) > MAX_EVENT_BYTES:
                raise InvalidArgument(
                    f"{event_type(event)} event of {len(data)} bytes exceeds {MAX_EVENT_BYTES}: send less per call"
                )
            datas.append(data)
    if not ids:
        return []
    try:
        rows = await conn.fetch(
            f"""
            INSERT INTO events (id, stream_id, stream_version, type, schema_version, data,
                                causation_id, correlation_id, principal, traceparent)
            SELECT i, s, v, t, sv, d, $7, $8, $9, $10
            FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::bytea[])
                 AS x(i, s, v, t, sv, d)
            RETURNING {_COLUMNS}
            """,
            ids,
            streams,
            versions,
            types,
            schemas,
            datas,
            causation_id,
            correlation_id,
            call.principal,
            tracing.current_traceparent(),
        )
    except asyncpg.UniqueViolationError:  # a writer that appended with expected_version=None
        raise Conflict("concurrent append to the same stream; try again") from None
    rows = sorted(rows, key=lambda r: r["position"])
    for t in types:
        EVENTS_APPENDED.labels(t).inc()
    await conn.execute("INSERT INTO outbox (position) SELECT unnest($1::bigint[])", [r["position"] for r in rows])
    await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
    return [_row_to_envelope(r) for r in rows]


async def read_stream(
    conn: asyncpg.Connection | asyncpg.Pool, stream_id: str, after_version: int = 0
) -> list[Envelope]:
    """The events of one stream with stream_version > after_version (a snapshot's), in order."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
        stream_id,
        after_version,
    )
    return [_row_to_envelope(r) for r in rows]


async def read_all(
    conn: asyncpg.Connection | asyncpg.Pool, after_position: int = 0, limit: int = 1000
) -> list[Envelope]:
    """Events with position > after_position in position order (safe to tail: see module doc)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        after_position,
        limit,
    )
    return [_row_to_envelope(r) for r in rows]
