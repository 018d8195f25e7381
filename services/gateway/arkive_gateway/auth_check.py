"""Authenticating a token and authorizing a call against the rule table.

Token records come from ingest (the owner) over the bus and are cached here for TTL seconds. Any
event on a `principal-*` or `grant-*` stream (a revocation, a new grant) empties the cache as soon
as it reaches the bus, and the gateway that served a change empties its own cache at once; the TTL
only bounds how long a replica that missed that message keeps a stale entry.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

from arkive_core.errors import InvalidArgument, PermissionDenied, Unauthenticated
from arkive_core.refs import VERSION_ID_RE, parse_ref
from arkive_core.tokens import Role, parse_token, secret_matches

from arkive_common import api_auth as aa
from arkive_common import api_retention as ra
from arkive_common.api_lineage import RunId
from arkive_common.contracts import INGEST, LINEAGE
from arkive_common.rpc import RpcClient

from .auth_rules import Check, Rule, Source

TTL_SECONDS = 5.0
TOUCH_INTERVAL = 60.0  # last use is reported at most once a minute per token (per gateway)


class TokenCache:
    def __init__(self, rpc: RpcClient, ttl: float = TTL_SECONDS) -> None:
        self._rpc = rpc
        self._ttl = ttl
        self._entries: dict[str, tuple[aa.TokenAuth, float]] = {}  # token id -> (record, fetched at)
        # the whole authorization header -> (record, verified at): a hit skips parsing and hashing
        self._verified: dict[str, tuple[aa.TokenAuth, float]] = {}
        self._inflight: dict[str, asyncio.Future[aa.TokenAuth]] = {}
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def clear(self) -> None:
        self._entries.clear()
        self._verified.clear()

    async def _record(self, token_id: str) -> aa.TokenAuth:
        hit = self._entries.get(token_id)
        if hit is not None and time.monotonic() - hit[1] < self._ttl:
            return hit[0]
        pending = self._inflight.get(token_id)
        if pending is not None:  # many calls of one client after a miss share one lookup
            return await asyncio.shield(pending)
        fut: asyncio.Future[aa.TokenAuth] = asyncio.get_running_loop().create_future()
        self._inflight[token_id] = fut
        try:
            record = await self._rpc.call(INGEST.auth_lookup, aa.TokenLookup(token_id))
            self._entries[token_id] = (record, time.monotonic())
            fut.set_result(record)
            return record
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            del self._inflight[token_id]

    async def authenticate(self, authorization: str) -> aa.TokenAuth:
        """The token's record; Unauthenticated when missing, malformed, unknown, expired or revoked."""
        now = time.time()
        hit = self._verified.get(authorization)
        if hit is not None and time.monotonic() - hit[1] < self._ttl:
            record = hit[0]
            if record.expires_at and now >= record.expires_at:
                raise Unauthenticated(f"API token {record.token_id} expired")
            self._touch(record.token_id, now)
            return record
        scheme, _, value = authorization.partition(" ")
        if not authorization:
            raise Unauthenticated("no API token: send `authorization: Bearer ark_...` (set ARKIVE_API_KEY)")
        token = parse_token(value) if scheme.lower() == "bearer" else None
        if token is None:
            raise Unauthenticated("malformed authorization: expected `Bearer ark_<id>_<secret>`")
        record = await self._record(token.token_id)
        if not record.found or not secret_matches(token.secret, record.secret_sha256):
            raise Unauthenticated(f"unknown API token {token.token_id}")
        if record.revoked:
            raise Unauthenticated(f"API token {token.token_id} was revoked")
        if record.expires_at and now >= record.expires_at:
            raise Unauthenticated(f"API token {token.token_id} expired")
        if len(self._verified) > 10_000:  # bounded: many distinct tokens just cost a hash each
            self._verified.clear()
        fetched_at = self._entries.get(token.token_id, (record, time.monotonic()))[1]
        self._verified[authorization] = (record, fetched_at)  # never outlives the record's TTL
        self._touch(token.token_id, now)
        return record

    def _touch(self, token_id: str, now: float) -> None:
        if now - self._touched.get(token_id, 0.0) < TOUCH_INTERVAL:
            return
        self._touched[token_id] = now
        task = asyncio.create_task(self._send_touch(token_id, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_touch(self, token_id: str, now: float) -> None:
        try:
            await self._rpc.call(INGEST.auth_touch, aa.TokenTouch([token_id], now))
        except Exception:  # bookkeeping only: the next call after a minute tries again
            self._touched.pop(token_id, None)


def allowed(record: aa.TokenAuth, project: str, role: Role) -> bool:
    if record.global_admin:
        return True
    held = record.grants.get(project) if project else None
    return held is not None and Role.parse(held) >= role


class Resolver:
    """Finds the project of a draft, a run or a version id (immutable: cached, bounded)."""

    def __init__(self, rpc: RpcClient, size: int = 50_000) -> None:
        self._rpc = rpc
        self._size = size
        self._known: OrderedDict[str, str] = OrderedDict()

    async def _cached(self, key: str, fetch) -> str:
        project = self._known.get(key)
        if project is None:
            project = await fetch()
            self._known[key] = project
            if len(self._known) > self._size:
                self._known.popitem(last=False)
        return project

    async def draft(self, draft_id: str) -> str:
        async def fetch() -> str:
            found = await self._rpc.call(INGEST.auth_draft_project, aa.DraftRef(draft_id))
            return found.project

        return await self._cached(f"draft:{draft_id}", fetch)

    async def run(self, run_id: str) -> str:
        async def fetch() -> str:
            return (await self._rpc.call(LINEAGE.get_run, RunId(run_id))).project

        return await self._cached(f"run:{run_id}", fetch)

    async def ref(self, text: str) -> str:
        if text.startswith("run:"):
            return await self.run(text[4:])
        if not VERSION_ID_RE.fullmatch(text.strip()):
            return parse_ref(text).project  # InvalidArgument for a malformed ref

        async def fetch() -> str:  # deleted versions too (undelete names them)
            found = await self._rpc.call(INGEST.resolve_any, ra.ResolveAny(text.strip()))
            return found.project

        return await self._cached(f"version:{text.strip()}", fetch)


def _field(request: Any, path: str) -> str:
    value = request
    for part in path.split("."):
        value = getattr(value, part)
    return value


async def authorize(record: aa.TokenAuth, rule: Rule, request: Any, resolver: Resolver) -> None:
    """PermissionDenied unless `record` satisfies every check of `rule` for `request`."""
    for check in rule.checks:
        await _check(record, check, request, resolver)


async def _check(record: aa.TokenAuth, check: Check, request: Any, resolver: Resolver) -> None:
    who = record.principal_id
    match check.source:
        case Source.SELF | Source.READABLE:
            return
        case Source.GLOBAL:
            if not record.global_admin:
                raise PermissionDenied(f"{who} is not a global admin")
            return
        case Source.ANY:
            if record.global_admin or any(Role.parse(r) >= check.role for r in record.grants.values()):
                return
            raise PermissionDenied(f"{who} is no {check.role.label} of any project")
    if record.global_admin:  # no need to resolve anything
        return
    value = _field(request, check.field)
    if check.source is Source.PROJECT_OR_READABLE and not value:
        return  # the handler filters by the caller's read grants (projects.readable_projects)
    if check.source is not Source.PROJECT and not value:
        raise InvalidArgument(f"{check.field} is required")
    match check.source:
        case Source.DRAFT:
            project = await resolver.draft(value)
        case Source.RUN:
            project = await resolver.run(value)
        case Source.REF:
            project = await resolver.ref(value)
        case _:
            project = value
    if not allowed(record, project, check.role):
        where = f"project {project}" if project else "every project (no project given)"
        raise PermissionDenied(f"{who} needs the {check.role.label} role on {where}")
