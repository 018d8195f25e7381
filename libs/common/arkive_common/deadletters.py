"""Where a bus consumer keeps events it failed on: a failure count per message while it is retried,
and the dead-letter table once it gave up. Operational state, not a projection: a rebuild leaves it
alone. Every service that consumes the bus migrates these tables (component "consumers")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

MIGRATIONS: list[str] = [
    """
    -- One row per message of a consumer that failed (or waits for an earlier event: failures 0)
    -- and is being redelivered; gone on success.
    CREATE TABLE consumer_failures (
        consumer text NOT NULL, stream_seq bigint NOT NULL, failures int NOT NULL,
        first_failure timestamptz NOT NULL, last_failure timestamptz NOT NULL,
        PRIMARY KEY (consumer, stream_seq));
    CREATE TABLE dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        consumer text NOT NULL,
        event_id uuid,               -- NULL when the message could not be decoded
        subject text NOT NULL,
        stream_seq bigint,           -- NULL when the reconciler parked it (read from the log)
        data bytea NOT NULL,
        error text NOT NULL,
        deliveries int NOT NULL,
        first_failure timestamptz NOT NULL,
        last_failure timestamptz NOT NULL);
    CREATE UNIQUE INDEX dead_letters_event ON dead_letters (consumer, event_id);
    -- The reconciler's high-water mark: every owned event at a position <= position was processed
    -- or parked; `expected` counts the owned events up to there.
    CREATE TABLE consumer_checkpoints (
        consumer text PRIMARY KEY, position bigint NOT NULL, expected bigint NOT NULL);
    """,
    """
    -- An undecodable message has no event id, and NULLs never conflict in the index above: a
    -- redelivery after a crash between parking and acking added a second row. Keyed by the stream
    -- sequence instead (the oldest row of each duplicate group is kept).
    DELETE FROM dead_letters a USING dead_letters b
        WHERE a.event_id IS NULL AND b.event_id IS NULL AND a.consumer = b.consumer
          AND a.stream_seq = b.stream_seq AND a.id > b.id;
    CREATE UNIQUE INDEX dead_letters_undecodable ON dead_letters (consumer, stream_seq) WHERE event_id IS NULL;
    """,
]


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed handling of a message, as the consumer saw it."""

    consumer: str
    subject: str
    stream_seq: int | None
    data: bytes
    event_id: str | None
    error: str


async def count_failure(pool: asyncpg.Pool, consumer: str, stream_seq: int) -> int:
    """Records one more failure of the message; returns how many it has had."""
    return await pool.fetchval(
        "INSERT INTO consumer_failures (consumer, stream_seq, failures, first_failure, last_failure)"
        " VALUES ($1, $2, 1, now(), now()) ON CONFLICT (consumer, stream_seq)"
        " DO UPDATE SET failures = consumer_failures.failures + 1, last_failure = now() RETURNING failures",
        consumer,
        stream_seq,
    )


async def note_waiting(pool: asyncpg.Pool, consumer: str, stream_seq: int) -> float:
    """Records that the message waits for an earlier event (not a failure); returns the seconds
    since it first did. Counted from the first wait, not from the publication: after an outage a
    backlog is old on arrival, and its events still deserve the whole wait."""
    return await pool.fetchval(
        "INSERT INTO consumer_failures (consumer, stream_seq, failures, first_failure, last_failure)"
        " VALUES ($1, $2, 0, now(), now()) ON CONFLICT (consumer, stream_seq) DO UPDATE SET last_failure = now()"
        " RETURNING extract(epoch FROM now() - consumer_failures.first_failure)::float8",
        consumer,
        stream_seq,
    )


async def forget_failures(pool: asyncpg.Pool, consumer: str, stream_seq: int) -> None:
    await pool.execute("DELETE FROM consumer_failures WHERE consumer = $1 AND stream_seq = $2", consumer, stream_seq)


async def park(pool: asyncpg.Pool, f: Failure, deliveries: int) -> int:
    """Moves the message into the dead-letter table (its failure count goes); returns its id. The
    same event parked again (by the reconciler, or redelivered after a crash) updates its row."""
    async with pool.acquire() as conn, conn.transaction():
        first = None
        if f.stream_seq is not None:
            first = await conn.fetchval(
                "DELETE FROM consumer_failures WHERE consumer = $1 AND stream_seq = $2 RETURNING first_failure",
                f.consumer,
                f.stream_seq,
            )
        event_id = _uuid_or_none(f.event_id)
        # The arbiter of a repeat: the event id, or for a message without one its stream sequence.
        key = "(consumer, event_id)" if event_id is not None else "(consumer, stream_seq) WHERE event_id IS NULL"
        return await conn.fetchval(
            "INSERT INTO dead_letters (consumer, event_id, subject, stream_seq, data, error, deliveries,"
            " first_failure, last_failure) VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), now())"
            f" ON CONFLICT {key} DO UPDATE SET error = EXCLUDED.error,"
            " deliveries = dead_letters.deliveries + EXCLUDED.deliveries, last_failure = now(),"
            " stream_seq = coalesce(dead_letters.stream_seq, EXCLUDED.stream_seq) RETURNING id",
            f.consumer,
            event_id,
            f.subject,
            f.stream_seq,
            f.data,
            f.error[:2000],
            deliveries,
            first,
        )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:  # decodable, but not one of our ids
        return None


async def record_retry_failure(conn: asyncpg.Pool | asyncpg.Connection, dead_letter_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE dead_letters SET error = $2, deliveries = deliveries + 1, last_failure = now() WHERE id = $1",
        dead_letter_id,
        error[:2000],
    )


async def remove(conn: asyncpg.Pool | asyncpg.Connection, dead_letter_id: int) -> None:
    await conn.execute("DELETE FROM dead_letters WHERE id = $1", dead_letter_id)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    consumer: str
    event_id: str | None
    subject: str
    stream_seq: int | None
    data: bytes
    error: str
    deliveries: int
    first_failure: datetime
    last_failure: datetime


_COLUMNS = "id, consumer, event_id, subject, stream_seq, data, error, deliveries, first_failure, last_failure"


def _row(r: asyncpg.Record) -> DeadLetter:
    values = dict(r)
    values["event_id"] = str(r["event_id"]) if r["event_id"] is not None else None
    values["data"] = bytes(r["data"])
    return DeadLetter(**values)


async def list_for(conn: asyncpg.Pool | asyncpg.Connection, consumer: str) -> list[DeadLetter]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM dead_letters WHERE consumer = $1 ORDER BY id", consumer)
    return [_row(r) for r in rows]


async def get(conn: asyncpg.Pool | asyncpg.Connection, consumer: str, dead_letter_id: int) -> DeadLetter | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE consumer = $1 AND id = $2", consumer, dead_letter_id
    )
    return _row(row) if row is not None else None


async def count(conn: asyncpg.Pool | asyncpg.Connection, consumer: str) -> int:
    return await conn.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = $1", consumer)
