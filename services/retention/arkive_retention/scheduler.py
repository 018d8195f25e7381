"""TTLs and policies that fire by themselves: every ARKIVE_RETENTION_INTERVAL seconds (default one
hour; 0 turns the schedule off) one replica applies retention to every project that has a TTL or a
policy, as `arkive retention apply` would, except what only manual policies would delete.

Replicas coordinate through PostgreSQL: the run happens under a session advisory lock (the others
skip that tick), and the time of the last run is a row, so N replicas still apply once per interval
and a restart does not reset the clock. Each replica checks every min(interval, 30 s)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

import asyncpg

from arkive_common import api_retention as ra

from .commands import RetentionCommands

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 3600.0
MAX_TICK = 30.0
LOCK_KEY = 0x61726B7274  # "arkrt": one retention schedule run at a time, cluster-wide

_PROJECTS = """
SELECT project FROM retention_policies
UNION SELECT project FROM retention_default_ttls WHERE ttl_seconds > 0
UNION SELECT v.project FROM retention_ttls t JOIN retention_versions v USING (version_id)
      WHERE t.ttl_seconds > 0 AND v.deleted_at IS NULL
ORDER BY 1
"""


def retention_interval() -> float:
    text = os.environ.get("ARKIVE_RETENTION_INTERVAL", "").strip()
    try:
        value = float(text) if text else DEFAULT_INTERVAL
    except ValueError:
        raise ValueError(f"ARKIVE_RETENTION_INTERVAL must be seconds (0: off), got {text!r}") from None
    if value < 0:
        raise ValueError(f"ARKIVE_RETENTION_INTERVAL must not be negative, got {text!r}")
    return value


class RetentionScheduler:
    """A runnable of the retention service (see ServiceRuntime.runnables)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        commands: RetentionCommands,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool = pool
        self.commands = commands
        self.interval = interval
        self.clock = clock
        self._stop = asyncio.Event()

    async def run(self) -> None:
        tick = min(self.interval, MAX_TICK)
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a failed run is retried at the next tick; the service stays up
                log.exception("scheduled retention failed")
            try:
                await asyncio.wait_for(self._stop.wait(), tick)
            except TimeoutError:
                pass

    async def shutdown(self) -> None:
        self._stop.set()

    async def run_once(self) -> bool:
        """Applies retention if this replica got the lock and the interval has passed; True if it ran."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                return False
            try:
                now = self.clock()
                last = await conn.fetchval("SELECT last_run_at FROM retention_schedule WHERE id = 1")
                if now - last < self.interval:
                    return False
                await self._apply_all(conn, now)
                await conn.execute("UPDATE retention_schedule SET last_run_at = $1 WHERE id = 1", now)
                return True
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

    async def _apply_all(self, conn: asyncpg.Connection, now: float) -> None:
        for row in await conn.fetch(_PROJECTS):
            project = row["project"]
            try:
                result = await self.commands.apply(ra.PlanRequest(project, as_of=now), automatic=True)
            except Exception:  # one project's failure must not starve the others
                log.exception("scheduled retention of project %s failed", project)
                continue
            if result.deleted:
                log.info("scheduled retention deleted %d versions of project %s", result.deleted, project)
