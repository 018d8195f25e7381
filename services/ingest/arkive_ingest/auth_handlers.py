"""Commands and queries of principals, tokens and grants (the gateway authenticates with them).

Each change is an event on `principal-<id>` or `grant-<project>`, applied to the read model and
appended in one transaction. The actor (the authenticated caller the gateway saw) is checked here
against this service's own tables, so a grant revoked a moment ago is never honoured by a stale
gateway cache when tokens or grants are changed.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import asyncpg
from arkive_core.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from arkive_core.tokens import BOOTSTRAP_PRINCIPAL, Role, parse_bootstrap_value
from arkive_core.validation import check_name

from arkive_common import api_auth as aa
from arkive_common import eventlog
from arkive_common.events import Event, PrincipalCreated, RoleGranted, RoleRevoked, TokenIssued, TokenRevoked

from . import auth_model
from .handlers import retrying

log = logging.getLogger(__name__)
KINDS = ("user", "service")


async def _append(conn: asyncpg.Connection, stream: str, events: list[Event], expected: int | None) -> None:
    for event in events:
        await auth_model.apply(conn, event)
    await eventlog.append(conn, [eventlog.Append(stream, events, expected)])


async def _stream_version(conn: asyncpg.Connection, stream: str) -> int:
    return await conn.fetchval("SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream)


async def is_global_admin(conn: asyncpg.Connection, principal_id: str) -> bool:
    return bool(await conn.fetchval("SELECT global_admin FROM auth_principals WHERE principal_id = $1", principal_id))


async def require_project_admin(conn: asyncpg.Connection, actor: str, project: str) -> None:
    if await is_global_admin(conn, actor):
        return
    role = await conn.fetchval("SELECT role FROM auth_grants WHERE project = $1 AND principal_id = $2", project, actor)
    if role is None or Role.parse(role) < Role.ADMIN:
        raise PermissionDenied(f"{actor} is not an admin of project {project}")


def _view(row: asyncpg.Record) -> aa.TokenView:
    def ts(v: datetime | None) -> float:
        return v.timestamp() if v is not None else 0.0

    return aa.TokenView(
        token_id=row["token_id"],
        principal_id=row["principal_id"],
        name=row["name"],
        issued_at=row["issued_at"].timestamp(),
        expires_at=ts(row["expires_at"]),
        revoked_at=ts(row["revoked_at"]),
        last_used_at=ts(row["last_used_at"]),
    )


_TOKEN_SELECT = "SELECT t.*, u.last_used_at FROM auth_tokens t LEFT JOIN auth_token_usage u USING (token_id)"


class AuthHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def lookup(self, q: aa.TokenLookup) -> aa.TokenAuth:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT t.*, p.kind, p.global_admin FROM auth_tokens t"
                " JOIN auth_principals p USING (principal_id) WHERE t.token_id = $1",
                q.token_id,
            )
            if row is None:
                return aa.TokenAuth(found=False)
            grants = await conn.fetch(
                "SELECT project, role FROM auth_grants WHERE principal_id = $1", row["principal_id"]
            )
        return aa.TokenAuth(
            found=True,
            token_id=row["token_id"],
            principal_id=row["principal_id"],
            kind=row["kind"],
            global_admin=row["global_admin"],
            secret_sha256=row["secret_sha256"],
            expires_at=row["expires_at"].timestamp() if row["expires_at"] else 0.0,
            revoked=row["revoked_at"] is not None,
            grants={g["project"]: g["role"] for g in grants},
        )

    async def touch(self, t: aa.TokenTouch) -> aa.Done:
        await self.pool.execute(
            "INSERT INTO auth_token_usage SELECT unnest($1::text[]), $2"
            " ON CONFLICT (token_id) DO UPDATE SET last_used_at = greatest(auth_token_usage.last_used_at, $2)",
            t.token_ids,
            datetime.fromtimestamp(t.at, UTC),
        )
        return aa.Done(changed=True)

    async def draft_project(self, q: aa.DraftRef) -> aa.ProjectOf:
        project = await self.pool.fetchval("SELECT project FROM ingest_drafts WHERE draft_id = $1", q.draft_id)
        if project is None:
            raise NotFound(f"draft {q.draft_id!r} not found")
        return aa.ProjectOf(project)

    async def issue_token(self, c: aa.IssueToken) -> aa.TokenView:
        principal = check_name(c.principal_id, "principal")
        role = Role.parse(c.role) if c.role else None
        if c.kind not in KINDS:
            raise InvalidArgument(f"kind must be user or service, not {c.kind!r}")
        if role is not None:
            check_name(c.project, "project")
        now = time.time()

        async def attempt(conn: asyncpg.Connection) -> aa.TokenView:
            actor_is_admin = await is_global_admin(conn, c.actor)
            exists = await conn.fetchval("SELECT 1 FROM auth_principals WHERE principal_id = $1", principal)
            if c.global_admin and not actor_is_admin:
                raise PermissionDenied("only a global admin can create a global admin")
            if exists and principal != c.actor and not actor_is_admin:
                raise PermissionDenied(f"only {principal} itself or a global admin can issue its tokens")
            if not exists and not actor_is_admin and role is None:
                raise PermissionDenied("a new principal needs a global admin, or a --project you administer")
            if role is not None:
                await require_project_admin(conn, c.actor, c.project)
            stream = auth_model.principal_stream(principal)
            events: list[Event] = []
            if not exists:
                kind = c.kind
                events.append(
                    PrincipalCreated(
                        principal_id=principal,
                        kind=kind,
                        global_admin=c.global_admin,
                        created_by=c.actor,
                        created_at=now,
                    )
                )
            events.append(
                TokenIssued(
                    principal_id=principal,
                    token_id=c.token_id,
                    name=c.token_name or principal,
                    secret_sha256=c.secret_sha256,
                    expires_at=c.expires_at,
                    issued_by=c.actor,
                    issued_at=now,
                )
            )
            await _append(conn, stream, events, await _stream_version(conn, stream) if exists else 0)
            if role is not None:
                grant = RoleGranted(
                    project=c.project, principal_id=principal, role=role.label, granted_by=c.actor, granted_at=now
                )
                await _append(conn, auth_model.grant_stream(c.project), [grant], None)
            row = await conn.fetchrow(_TOKEN_SELECT + " WHERE token_id = $1", c.token_id)
            return _view(row)

        return await retrying(self.pool, attempt)

    async def revoke_token(self, c: aa.RevokeToken) -> aa.TokenView:
        async def attempt(conn: asyncpg.Connection) -> aa.TokenView:
            row = await conn.fetchrow(_TOKEN_SELECT + " WHERE token_id = $1", c.token_id)
            if row is None:
                raise NotFound(f"token {c.token_id!r} not found")
            if row["principal_id"] != c.actor and not await is_global_admin(conn, c.actor):
                raise PermissionDenied("only the token's principal or a global admin can revoke it")
            if row["revoked_at"] is None:
                stream = auth_model.principal_stream(row["principal_id"])
                event = TokenRevoked(
                    principal_id=row["principal_id"], token_id=c.token_id, revoked_by=c.actor, revoked_at=time.time()
                )
                await _append(conn, stream, [event], await _stream_version(conn, stream))
                row = await conn.fetchrow(_TOKEN_SELECT + " WHERE token_id = $1", c.token_id)
            return _view(row)

        return await retrying(self.pool, attempt)

    async def list_tokens(self, q: aa.ListTokens) -> aa.TokenPage:
        async with self.pool.acquire() as conn:
            if q.all and not await is_global_admin(conn, q.actor):
                raise PermissionDenied("only a global admin can list every principal's tokens")
            where, args = ("", []) if q.all else (" WHERE t.principal_id = $1", [q.actor])
            rows = await conn.fetch(_TOKEN_SELECT + where + " ORDER BY t.issued_at, t.token_id", *args)
        return aa.TokenPage([_view(r) for r in rows])

    async def grant(self, c: aa.Grant) -> aa.Done:
        project, principal = check_name(c.project, "project"), check_name(c.principal_id, "principal")
        role = Role.parse(c.role) if c.role else None

        async def attempt(conn: asyncpg.Connection) -> aa.Done:
            await require_project_admin(conn, c.actor, project)
            if not await conn.fetchval("SELECT 1 FROM auth_principals WHERE principal_id = $1", principal):
                raise NotFound(f"principal {principal!r} not found")
            held = await conn.fetchval(
                "SELECT role FROM auth_grants WHERE project = $1 AND principal_id = $2", project, principal
            )
            now = time.time()
            if role is not None and held != role.label:
                event: Event = RoleGranted(
                    project=project, principal_id=principal, role=role.label, granted_by=c.actor, granted_at=now
                )
            elif role is None and held is not None:
                event = RoleRevoked(project=project, principal_id=principal, revoked_by=c.actor, revoked_at=now)
            else:
                return aa.Done(changed=False)
            stream = auth_model.grant_stream(project)
            await _append(conn, stream, [event], await _stream_version(conn, stream))
            return aa.Done(changed=True)

        return await retrying(self.pool, attempt)


async def bootstrap_admin(pool: asyncpg.Pool, value: str) -> bool:
    """Registers the launcher's admin token when no principal exists yet (ARKIVE_BOOTSTRAP_TOKEN_HASH).

    Every ingest replica may try at once: the append expects the `principal-admin` stream to be new,
    so exactly one succeeds and the others see a conflict (or the existing principal) and do nothing.
    """
    token_id, digest = parse_bootstrap_value(value)
    now = time.time()
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT 1 FROM auth_principals LIMIT 1"):
                return False
            events: list[Event] = [
                PrincipalCreated(
                    principal_id=BOOTSTRAP_PRINCIPAL,
                    kind="user",
                    global_admin=True,
                    created_by="bootstrap",
                    created_at=now,
                ),
                TokenIssued(
                    principal_id=BOOTSTRAP_PRINCIPAL,
                    token_id=token_id,
                    name="bootstrap",
                    secret_sha256=digest,
                    issued_by="bootstrap",
                    issued_at=now,
                ),
            ]
            await _append(conn, auth_model.principal_stream(BOOTSTRAP_PRINCIPAL), events, 0)
    except (Conflict, asyncpg.UniqueViolationError):
        return False
    log.info("bootstrap: created the global admin %r with token %s", BOOTSTRAP_PRINCIPAL, token_id)
    return True
