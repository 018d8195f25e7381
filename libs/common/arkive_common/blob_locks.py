"""Advisory locks that make "reference a blob" and "delete a blob" take turns (docs/architecture.md,
"GC safety").

Every service shares one PostgreSQL, so a transaction-scoped advisory lock is seen by every replica
of every service. Whoever adds references to blobs (ingest: AddFiles, CommitDraft with files,
UpsertFiles, a draft from a base version) takes the locks of those digests SHARED, first in its
transaction, then checks the blobs are still indexed, and holds the locks until its references are
committed. The GC sweep takes them EXCLUSIVE for the digests it is about to delete and re-asks which
are referenced under them. So each pair is ordered: either the references committed before the
sweep's re-check (which sees them and keeps the blob), or the sweep committed before the adder's
check (which finds the blob gone and refuses with FAILED_PRECONDITION).

Two levels keep both the lock count and false sharing small. A digest maps to one of BUCKETS fine
locks (a lock per digest could exceed PostgreSQL's lock table: max_locks_per_transaction x
connections). An adder whose digests fall into at most SPREAD buckets takes those, SHARED; a larger
one (a pack of files, a draft from a base version of a million files) takes the one WIDE lock SHARED
instead. A sweep takes WIDE EXCLUSIVE, then the fine locks of its batch EXCLUSIVE. So a sweep batch
waits for, and blocks, large adds and only those small adds that share a bucket with it; large adds
never block each other. Locks are taken WIDE first, then fine in bucket order, and an adder takes
either kind but never both, so no two lockers can wait on each other in a cycle.

Adders never *wait* for these locks: they try them, and when a sweep holds (or waits for) one, they
roll back, which returns their connection, and retry (BlobsBusy is a Conflict). A sweep waits, and
asks ingest "referenced?" while it holds its locks: had ingest's connections all been taken by adds
waiting for the sweep's locks, that question would have waited for them forever.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from arkive_core.errors import Conflict

NAMESPACE = 0x626C6F62  # "blob": first key of the two-int4 form, a key space apart from bigint locks
BUCKETS = 4096
SPREAD = 32
WIDE = BUCKETS  # second key of the wide lock, outside the fine buckets' range
MAX_SWEEP_BATCH = 256  # digests per sweep transaction: at most this many fine locks held at once


def buckets(digests: Iterable[str]) -> list[int]:
    """The sorted lock buckets of sha256:<hex> digests (the first 8 hex digits, modulo BUCKETS)."""
    return sorted({int(d[7:15], 16) % BUCKETS for d in digests})


class BlobsBusy(Conflict):
    """A sweep holds or waits for the locks of some of these blobs: roll back and retry."""


async def hold_shared(conn: asyncpg.Connection, digests: Iterable[str] | None) -> None:
    """Until the transaction ends, no sweep deletes these digests (None: any digest). Raises
    BlobsBusy instead of waiting; the caller's transaction must then roll back (it may hold some)."""
    keys = None if digests is None else buckets(digests)
    if keys is None or len(keys) > SPREAD:
        keys = [WIDE]
    _in_transaction(conn)
    # bool_and reads every row, so every lock is tried; the rollback releases those it got.
    got = await conn.fetchval(
        "SELECT bool_and(pg_try_advisory_xact_lock_shared($1, k)) FROM unnest($2::int[]) AS k", NAMESPACE, keys
    )
    if not got:
        raise BlobsBusy("garbage collection is sweeping some of these blobs; retry")


async def hold_exclusive(conn: asyncpg.Connection, digests: Iterable[str]) -> None:
    """Until the transaction ends, nobody adds references to these digests (at most
    MAX_SWEEP_BATCH of them)."""
    keys = buckets(digests)
    if len(keys) > MAX_SWEEP_BATCH:
        raise ValueError(f"lock at most {MAX_SWEEP_BATCH} digests' buckets at once, not {len(keys)}")
    await _take(conn, "pg_advisory_xact_lock", [WIDE, *keys])  # waits: adders hold them briefly


def _in_transaction(conn: asyncpg.Connection) -> None:
    if not conn.is_in_transaction():
        raise RuntimeError("blob locks are transaction-scoped: take them inside a transaction")


async def _take(conn: asyncpg.Connection, function: str, keys: list[int]) -> None:
    _in_transaction(conn)
    if keys:  # unnest keeps the array's order: WIDE first, then the buckets in order
        await conn.execute(f"SELECT {function}($1, k) FROM unnest($2::int[]) AS k", NAMESPACE, keys)
