"""Retention's commands: TTLs and policies (its own events on "retention-<project>" streams,
applied in the command's transaction), plan (dry run) and apply, which sends ingest's delete
command: ingest owns collections and re-checks alias protection at the moment of deletion, so a
projection lagging behind the log can only make retention delete less, never wrongly."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import asyncpg
import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.refs import refuse_link
from arkive_core.validation import check_name, check_type

from arkive_common import api, eventlog, metrics
from arkive_common import api_retention as ra
from arkive_common.contracts import INGEST
from arkive_common.db import load_jsonb
from arkive_common.events import DefaultTtlSet, Event, RetentionPolicyRemoved, RetentionPolicySet, VersionTtlSet
from arkive_common.rpc import RpcClient

from . import catalog, policies

DELETE_BATCH = 5000  # version ids per delete command: one ingest transaction, bounded in time and locks
MAX_LISTED = 5000  # planned deletions listed in one reply, which the gateway sends as one gRPC message


def _stream(project: str) -> str:
    return f"retention-{project}"


def _check_ttl(ttl: int) -> int:
    if ttl < -1:
        raise InvalidArgument("ttl_seconds is -1 (inherit), 0 (never expire) or a number of seconds")
    return ttl


def check_policy(p: ra.Policy) -> ra.Policy:
    check_name(p.project, "project")
    check_name(p.name, "policy name")
    if p.type:
        check_type(p.type)
    if min(p.keep_last, p.keep_best, p.max_age_seconds) < 0:
        raise InvalidArgument("keep_last, keep_best and max_age_seconds must not be negative")
    if p.keep_best and not p.metric:
        raise InvalidArgument("keep_best needs a metric (a metadata key such as accuracy or metrics.loss)")
    if not (p.keep_last or p.keep_best or p.max_age_seconds):
        raise InvalidArgument("a policy needs keep_last, keep_best or max_age_seconds")
    return p


class RetentionCommands:
    def __init__(self, pool: asyncpg.Pool, rpc: RpcClient) -> None:
        self.pool = pool
        self.rpc = rpc

    async def _record(self, project: str, event: Event) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await catalog.apply_own(conn, event)
            # Last writer wins per key: row locks order the applies, the log keeps that order.
            await eventlog.append(conn, [eventlog.Append(_stream(project), [event], None)])

    async def set_version_ttl(self, cmd: ra.SetVersionTtl) -> api.Empty:
        ttl = _check_ttl(cmd.ttl_seconds)
        v = await self.rpc.call(INGEST.get_version, api.GetVersion(cmd.ref))
        refuse_link(cmd.ref, v.project, v.name, v.version)  # a TTL through a link would expire another project's
        event = VersionTtlSet(
            project=v.project, name=v.name, version_id=v.version_id, ttl_seconds=ttl, set_at=time.time()
        )
        await self._record(v.project, event)
        return api.Empty()

    async def set_default_ttl(self, cmd: ra.SetDefaultTtl) -> api.Empty:
        check_name(cmd.project, "project")
        if cmd.type:
            check_type(cmd.type)
        if _check_ttl(cmd.ttl_seconds) < 0:
            raise InvalidArgument("a default TTL is 0 (none) or a number of seconds")
        event = DefaultTtlSet(project=cmd.project, type=cmd.type, ttl_seconds=cmd.ttl_seconds, set_at=time.time())
        await self._record(cmd.project, event)
        return api.Empty()

    async def put_policy(self, p: ra.Policy) -> ra.Policy:
        check_policy(p)
        spec = msgspec.to_builtins(p)
        await self._record(
            p.project, RetentionPolicySet(project=p.project, policy_name=p.name, spec=spec, set_at=time.time())
        )
        return p

    async def remove_policy(self, q: ra.PolicyRef) -> api.Empty:
        event = RetentionPolicyRemoved(project=q.project, policy_name=q.name, removed_at=time.time())
        await self._record(q.project, event)
        return api.Empty()

    async def list_policies(self, q: ra.ProjectQuery) -> ra.PolicyList:
        rows = await self.pool.fetch("SELECT spec FROM retention_policies WHERE project = $1 ORDER BY name", q.project)
        ttls = await self.pool.fetch(
            "SELECT type, ttl_seconds FROM retention_default_ttls WHERE project = $1", q.project
        )
        return ra.PolicyList(
            policies=[msgspec.convert(json.loads(r["spec"]), ra.Policy) for r in rows],
            default_ttls={r["type"]: r["ttl_seconds"] for r in ttls},
        )

    async def plan(self, q: ra.PlanRequest) -> ra.Plan:
        check_name(q.project, "project")
        rows = await self.pool.fetch(
            """
            SELECT v.*, coalesce(t.ttl_seconds, -1) AS ttl,
              -- its own aliases ("production") and its registry links' ("registry/zoo:production")
              coalesce((SELECT array_agg(CASE WHEN a.project = v.project AND a.name = v.name THEN a.alias
                                              ELSE a.project || '/' || a.name || ':' || a.alias END
                                         ORDER BY (a.project, a.name) <> (v.project, v.name), a.project, a.name,
                                                  a.alias)
                        FROM retention_aliases a WHERE a.version_id = v.version_id
                          AND a.alias <> 'latest'), '{}') AS aliases
            FROM retention_versions v LEFT JOIN retention_ttls t ON t.version_id = v.version_id
            WHERE v.project = $1 AND v.deleted_at IS NULL
            """,
            q.project,
        )
        candidates = [
            policies.Candidate(
                project=r["project"],
                name=r["name"],
                type=r["type"],
                version_id=r["version_id"],
                version=r["version"],
                created_at=r["created_at"].timestamp(),
                metadata=load_jsonb(r["metadata"]),
                aliases=tuple(r["aliases"]),
                ttl_seconds=r["ttl"],
            )
            for r in rows
        ]
        config = await self.list_policies(ra.ProjectQuery(q.project))
        return policies.plan(candidates, config.policies, config.default_ttls, q.as_of or time.time())

    async def plan_reply(self, q: ra.PlanRequest) -> ra.Plan:
        full = await self.plan(q)
        limit = min(q.limit or 1000, MAX_LISTED)
        return ra.Plan(
            deletions=full.deletions[:limit],
            protected=full.protected,
            total=len(full.deletions),
            protected_versions=full.protected_versions[:limit],
        )

    async def apply(self, q: ra.PlanRequest, *, automatic: bool = False) -> ra.ApplyResult:
        """automatic: the schedule's apply, which leaves what only manual policies would delete.
        Counted on /metrics by trigger (scheduled or manual)."""
        trigger, started = ("scheduled" if automatic else "manual"), time.monotonic()
        try:
            result = await self._apply(q, automatic)
        except BaseException:
            metrics.RETENTION_RUNS.labels(trigger, "failed").inc()
            raise
        metrics.RETENTION_RUNS.labels(trigger, "ok").inc()
        metrics.RETENTION_DELETED_VERSIONS.labels(trigger).inc(result.deleted)
        metrics.RETENTION_SECONDS.labels(trigger).observe(time.monotonic() - started)
        metrics.RETENTION_LAST_SUCCESS.labels(trigger).set(time.time())
        return result

    async def _apply(self, q: ra.PlanRequest, automatic: bool) -> ra.ApplyResult:
        planned = await self.plan(q)
        deletions = planned.deletions
        if automatic:
            deletions = policies.scheduled(deletions, (await self.list_policies(ra.ProjectQuery(q.project))).policies)
        groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for d in deletions:
            kind = "ttl" if all(r.startswith("ttl ") for r in d.reasons) else "retention policy"
            groups[(d.project, d.name, kind)].append(d.version_id)
        deleted, skipped = 0, []
        for (project, name, kind), ids in groups.items():
            for i in range(0, len(ids), DELETE_BATCH):
                cmd = ra.DeleteVersions(
                    project=project, name=name, version_ids=ids[i : i + DELETE_BATCH], skip_protected=True, reason=kind
                )
                result = await self.rpc.call(INGEST.delete_versions, cmd)
                deleted += len(result.deleted)
                skipped += result.skipped
        return ra.ApplyResult(deleted=deleted, skipped=skipped)

    async def version_ttl(self, q: api.GetVersion) -> ra.VersionTtl:
        v = await self.rpc.call(INGEST.get_version, api.GetVersion(q.ref))
        own = await self.pool.fetchval("SELECT ttl_seconds FROM retention_ttls WHERE version_id = $1", v.version_id)
        defaults = (await self.list_policies(ra.ProjectQuery(v.project))).default_ttls
        ttl, source = policies.ttl_and_source(-1 if own is None else own, v.type, defaults)
        return ra.VersionTtl(ttl_seconds=ttl, source=source, expires_at=v.created_at + ttl if ttl > 0 else 0.0)
