"""Requests and replies of the methods every service with a bus consumer answers: its dead letters,
re-driving one, and a reconciler run (consumer_admin.py; the gateway's AdminService fans out)."""

from __future__ import annotations

import msgspec


class DeadLetterView(msgspec.Struct, frozen=True):
    id: int
    consumer: str
    event_id: str  # "" when the message could not be decoded
    event_type: str
    subject: str
    stream_seq: int  # 0 when the reconciler parked it (read from the log, not the bus)
    data_size: int
    error: str
    deliveries: int
    first_failure: float
    last_failure: float


class DeadLetterList(msgspec.Struct, frozen=True):
    letters: list[DeadLetterView]


class RetryDeadLetter(msgspec.Struct, frozen=True):
    id: int


class RetryResult(msgspec.Struct, frozen=True):
    id: int
    consumer: str
    event_id: str
    applied: bool  # False: the event had been applied already (by the reconciler, say)


class ConsumerCheck(msgspec.Struct, frozen=True):
    consumer: str
    position: int  # every owned event up to this log position is processed or a dead letter
    expected: int  # owned events in the log older than the margin
    processed: int
    redriven: int  # missing before this check, applied from the log by it
    still_missing: int  # missing after re-driving (waiting for an earlier event)
    dead_letters: int


class CheckResult(msgspec.Struct, frozen=True):
    consumers: list[ConsumerCheck]
