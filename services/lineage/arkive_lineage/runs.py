"""Command handlers for runs: start, heartbeat, finish, use an artifact, record a step-cache key,
and the detector that marks runs whose client vanished as crashed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid

import asyncpg
import msgspec
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound
from arkive_core.validation import check_name

from arkive_common import api, eventlog
from arkive_common import api_batch as ab
from arkive_common import api_lineage as al
from arkive_common.contracts import INGEST
from arkive_common.events import ArtifactUsed, CacheKeyRecorded, Event, RunCrashed, RunFinished, RunStarted
from arkive_common.rpc import RpcClient

from . import graph, queries

log = logging.getLogger(__name__)
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
CACHE_KEY_RE = re.compile(r"^[A-Za-z0-9:_.-]{1,256}$")
DEFAULT_HEARTBEAT_TIMEOUT = 300
MAX_CONFIG_BYTES = 64 * 1024
MAX_CACHED_OUTPUTS = 100


def run_stream(run_id: str) -> str:
    return f"run-{run_id}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID_RE.fullmatch(run_id):
        raise InvalidArgument(f"invalid run id {run_id!r}")
    return run_id


async def record(conn: asyncpg.Connection, run_id: str, events: list[Event]) -> None:
    """Applies to the read model, then appends (last, as the append lock requires)."""
    for e in events:
        await graph.apply_event(conn, e)
    await eventlog.append(conn, [eventlog.Append(run_stream(run_id), events, None)])


async def locked_run(conn: asyncpg.Connection, run_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM lineage_runs WHERE run_id = $1 FOR UPDATE", check_run_id(run_id))
    if row is None:
        raise NotFound(f"run {run_id} not found")
    return row


class RunHandlers:
    def __init__(self, pool: asyncpg.Pool, rpc: RpcClient) -> None:
        self.pool = pool
        self.rpc = rpc

    async def start(self, cmd: al.StartRun) -> al.RunView:
        check_name(cmd.project, "project")
        for what, value in (("job type", cmd.job_type), ("group", cmd.group)):
            if value:
                check_name(value, what)
        if len(msgspec.json.encode(cmd.config)) > MAX_CONFIG_BYTES:
            raise InvalidArgument(f"run config is larger than {MAX_CONFIG_BYTES} bytes")
        run_id = uuid.uuid4().hex
        name = cmd.name or f"{cmd.job_type or 'run'}-{run_id[:8]}"
        check_name(name, "run name")
        timeout = cmd.heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT
        if not 1 <= timeout <= 7 * 24 * 3600:
            raise InvalidArgument("heartbeat timeout must be between 1 second and 7 days")
        event = RunStarted(
            run_id=run_id,
            project=cmd.project,
            name=name,
            job_type=cmd.job_type,
            group=cmd.group,
            config=cmd.config,
            heartbeat_timeout=timeout,
            started_at=time.time(),
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await record(conn, run_id, [event])
        return await queries.get_run(self.pool, run_id)

    async def heartbeat(self, cmd: al.RunId) -> al.RunStateReply:
        state = await self.pool.fetchval(
            "UPDATE lineage_runs SET last_heartbeat = now() WHERE run_id = $1 RETURNING state", check_run_id(cmd.run_id)
        )
        if state is None:
            raise NotFound(f"run {cmd.run_id} not found")
        return al.RunStateReply(state=state)

    async def state(self, cmd: al.RunId) -> al.RunStateReply:
        state = await self.pool.fetchval("SELECT state FROM lineage_runs WHERE run_id = $1", check_run_id(cmd.run_id))
        if state is None:
            raise NotFound(f"run {cmd.run_id} not found")
        return al.RunStateReply(state=state)

    async def finish(self, cmd: al.FinishRun) -> al.RunView:
        if cmd.state not in ("finished", "failed"):
            raise InvalidArgument("a run finishes as 'finished' or 'failed'")
        async with self.pool.acquire() as conn, conn.transaction():
            run = await locked_run(conn, cmd.run_id)
            if run["state"] in ("finished", "failed"):
                if run["state"] != cmd.state:
                    raise FailedPrecondition(f"run {cmd.run_id} already {run['state']}")
            else:  # running, or crashed and back (a slow client): its own word wins
                await record(
                    conn, cmd.run_id, [RunFinished(run_id=cmd.run_id, state=cmd.state, finished_at=time.time())]
                )
        return await queries.get_run(self.pool, cmd.run_id)

    async def use_artifact(self, cmd: al.UseArtifact) -> api.VersionView:
        check_run_id(cmd.run_id)
        version = await self.rpc.call(INGEST.get_version, api.GetVersion(cmd.ref))
        async with self.pool.acquire() as conn, conn.transaction():
            run = await locked_run(conn, cmd.run_id)
            if run["state"] != "running":
                raise FailedPrecondition(f"run {cmd.run_id} is {run['state']}; only a running run can use artifacts")
            event = ArtifactUsed(
                run_id=cmd.run_id,
                version_id=version.version_id,
                project=version.project,
                name=version.name,
                type=version.type,
                version=version.version,
                ref=cmd.ref,
                used_at=time.time(),
                version_created_at=version.created_at,
            )
            await record(conn, cmd.run_id, [event])
        return version

    async def record_cache_key(self, cmd: al.RecordCacheKey) -> api.Empty:
        if not CACHE_KEY_RE.fullmatch(cmd.cache_key):
            raise InvalidArgument("invalid cache key: 1-256 letters, digits and ':_.-'")
        if not 1 <= len(cmd.version_ids) <= MAX_CACHED_OUTPUTS:  # one CacheKeyRecorded event names them all
            raise InvalidArgument(f"a cache entry records 1 to {MAX_CACHED_OUTPUTS} output versions")
        found = await self.rpc.call(INGEST.get_versions, ab.GetVersions(cmd.version_ids))
        if found.missing:
            raise NotFound(found.missing[0].message)
        async with self.pool.acquire() as conn, conn.transaction():
            run = await locked_run(conn, cmd.run_id)
            if run["state"] != "running":
                raise FailedPrecondition(f"run {cmd.run_id} is {run['state']}; record cache keys while it runs")
            event = CacheKeyRecorded(
                run_id=cmd.run_id,
                project=run["project"],
                cache_key=cmd.cache_key,
                version_ids=list(cmd.version_ids),
                recorded_at=time.time(),
            )
            await record(conn, cmd.run_id, [event])
        return api.Empty()


class CrashDetector:
    """Marks running runs whose heartbeat is older than their timeout as crashed. Every replica runs
    one; SKIP LOCKED lets them share the work without marking a run twice."""

    def __init__(self, pool: asyncpg.Pool, interval: float = 1.0) -> None:
        self.pool = pool
        self.interval = interval
        self._stop = asyncio.Event()

    async def sweep(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT run_id, last_heartbeat FROM lineage_runs WHERE state = 'running'"
                " AND last_heartbeat < now() - make_interval(secs => heartbeat_timeout)"
                " ORDER BY last_heartbeat LIMIT 100 FOR UPDATE SKIP LOCKED"
            )
            for r in rows:
                event = RunCrashed(
                    run_id=r["run_id"], last_heartbeat=r["last_heartbeat"].timestamp(), detected_at=time.time()
                )
                await record(conn, r["run_id"], [event])
            return len(rows)

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # the database may be restarting; try again next round
                log.warning("crash detector: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def shutdown(self) -> None:
        self._stop.set()
