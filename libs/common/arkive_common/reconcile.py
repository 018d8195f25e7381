"""The reconciler: compares the events of the log that a bus consumer should have processed with its
processed-event records and applies what is missing straight from the log, through the consumer's
own `handle` (so still exactly once). An event the bus lost is applied late, never not at all.

It is position-based: `consumer_checkpoints` keeps a high-water mark P ("every owned event up to
position P is processed or parked"), so a run reads only the positions after P. Appends are
serialized (eventlog.py), so no event can appear below P later. Events recorded in the last
`margin` seconds are left alone: they may still be on their way over the bus. Replicas take turns
through an advisory lock; a periodic run skips when another one is busy.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from . import api_consumers as ac
from . import deadletters
from .consumer import EventConsumer, NotYet, describe
from .eventlog import _COLUMNS, _row_to_envelope
from .events import encode_envelope

log = logging.getLogger(__name__)
BATCH = 1000

_SCAN = f"""
    SELECT {", ".join("e." + c.strip() for c in _COLUMNS.split(","))},
           e.recorded_at < clock_timestamp() - $4 * interval '1 second' AS settled,
           p.event_id IS NOT NULL AS processed, d.id IS NOT NULL AS parked
    FROM events e
    LEFT JOIN processed_events p ON p.consumer = $1 AND p.event_id = e.id
    LEFT JOIN dead_letters d ON d.consumer = $1 AND d.event_id = e.id
    WHERE e.position > $2 AND e.position <= $6 AND e.stream_id LIKE $3 AND ($5::text IS NULL OR e.type = $5)
    ORDER BY e.position LIMIT {BATCH}
"""


class Reconciler:
    def __init__(
        self,
        consumer: EventConsumer,
        pool: asyncpg.Pool,
        *,
        category: str,
        margin: float,
        interval: float,
        event_type: str | None = None,
    ) -> None:
        """Owned events: those on `category`-… streams (of `event_type` only, when given), as the
        consumer's subject filter selects them."""
        self.consumer = consumer
        self._event_type = event_type
        self._pool = pool
        self._pattern = category.replace("%", r"\%").replace("_", r"\_") + "-%"
        self._margin = margin
        self._interval = interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        if self._interval <= 0:
            await self._stop.wait()
            return
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self._interval)
                return
            except TimeoutError:
                pass
            try:
                await self.check(wait=False)
            except Exception as exc:  # the database may be away for a moment: next run
                log.warning("reconciler %s: %s", self.consumer.name, describe(exc))

    async def shutdown(self) -> None:
        self._stop.set()

    async def check(self, *, wait: bool = True, margin: float | None = None) -> ac.ConsumerCheck | None:
        """One run; None when `wait` is False and another replica is running one."""
        name = self.consumer.name
        async with self._pool.acquire() as lock:
            if wait:
                await lock.execute("SELECT pg_advisory_lock(hashtext('reconcile:' || $1))", name)
            elif not await lock.fetchval("SELECT pg_try_advisory_lock(hashtext('reconcile:' || $1))", name):
                return None
            try:
                return await self._run(self._margin if margin is None else margin)
            finally:
                await lock.execute("SELECT pg_advisory_unlock(hashtext('reconcile:' || $1))", name)

    async def _run(self, margin: float) -> ac.ConsumerCheck:
        name = self.consumer.name
        row = await self._pool.fetchrow("SELECT position, expected FROM consumer_checkpoints WHERE consumer = $1", name)
        mark, mark_expected = (row["position"], row["expected"]) if row else (0, 0)
        # Every position up to `top` is committed or never will be (appends are serialized).
        top = await self._pool.fetchval("SELECT coalesce(max(position), 0) FROM events")
        position, expected, redriven = mark, mark_expected, 0
        waiting: list[asyncpg.Record] = []
        settled = True
        while settled:
            rows = await self._pool.fetch(_SCAN, name, position, self._pattern, margin, self._event_type, top)
            for r in rows:
                if not r["settled"]:
                    settled = False
                    break
                position, expected = r["position"], expected + 1
                if not (r["processed"] or r["parked"]):
                    outcome = await self._redrive(r)
                    redriven += outcome == "applied"
                    if outcome == "waiting":
                        waiting.append(r)
                if not waiting:  # the mark stops below the first event still missing
                    mark, mark_expected = position, expected
            if len(rows) < BATCH:
                break
        if settled:  # every owned event up to `top` was seen: the positions between need no second look
            position = max(position, top)
        # An event that waited for one later in the log (replicas append in any order across
        # streams) gets one more try now that the scan applied what came after it.
        outcomes = [await self._redrive(r, final=True) for r in waiting]
        redriven += outcomes.count("applied")
        missing = outcomes.count("waiting")
        if not missing:
            mark, mark_expected = position, expected
        horizon = position
        await self._pool.execute(
            "INSERT INTO consumer_checkpoints (consumer, position, expected) VALUES ($1, $2, $3)"
            " ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position, expected = EXCLUDED.expected",
            name,
            mark,
            mark_expected,
        )
        dead_in_log = await self._pool.fetchval(
            "SELECT count(*) FROM dead_letters d JOIN events e ON e.id = d.event_id"
            " WHERE d.consumer = $1 AND e.position <= $2",
            name,
            horizon,
        )
        if redriven or missing:
            log.warning("reconciler %s: re-drove %d events the bus had not delivered; %d still missing", name,
                        redriven, missing)  # fmt: skip
        return ac.ConsumerCheck(
            consumer=name,
            position=mark,
            expected=expected,
            processed=expected - missing - dead_in_log,
            redriven=redriven,
            still_missing=missing,
            dead_letters=await deadletters.count(self._pool, name),
        )

    async def _redrive(self, row: asyncpg.Record, *, final: bool = False) -> str:
        """Applies one missing event: "applied", "present" (processed meanwhile), "waiting" (NotYet)
        or "parked" (it fails; or, on the `final` try of a pass, it waited longer than the limit)."""
        env = _row_to_envelope(row)
        try:
            return "applied" if await self.consumer.handle(env) else "present"  # present: the bus was quicker
        except NotYet as exc:
            waited = time.time() - env.recorded_at
            if not final or waited < self.consumer.policy.wait_limit:
                return "waiting"
            error = f"waited {waited:.0f}s for an earlier event: {exc}"  # as the bus consumer would
        except Exception as exc:
            error = describe(exc)
        subject = f"(log position {env.position}) {env.stream_id} {env.type}"
        failure = deadletters.Failure(self.consumer.name, subject, None, encode_envelope(env), env.id, error)
        letter = await deadletters.park(self._pool, failure, 1)
        log.error("reconciler %s: parked event %s as dead letter %d: %s", self.consumer.name, env.id, letter, error)
        return "parked"
