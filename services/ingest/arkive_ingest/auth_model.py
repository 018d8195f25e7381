"""The auth read model: principals, tokens (id + sha256 of the secret) and per-project grants.

A projection of the `principal-*` and `grant-*` streams, applied in the command's transaction and
rebuilt from the log like every other read model. Last use of a token is operational data (like
the byte counters), kept in `auth_token_usage`, which a rebuild leaves alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from arkive_common import projection
from arkive_common.events import (
    Envelope,
    Event,
    PrincipalCreated,
    RoleGranted,
    RoleRevoked,
    TokenIssued,
    TokenRevoked,
)

COMPONENT = "ingest-auth"
TABLES = ("auth_principals", "auth_tokens", "auth_grants")
STREAM_PREFIXES = ("principal-", "grant-")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE auth_principals (
        principal_id text PRIMARY KEY, kind text NOT NULL, global_admin boolean NOT NULL,
        created_at timestamptz NOT NULL);
    CREATE TABLE auth_tokens (
        token_id text PRIMARY KEY, principal_id text NOT NULL, name text NOT NULL,
        secret_sha256 text NOT NULL, issued_at timestamptz NOT NULL, expires_at timestamptz,
        revoked_at timestamptz);
    CREATE INDEX auth_tokens_principal ON auth_tokens (principal_id);
    CREATE TABLE auth_grants (
        project text NOT NULL, principal_id text NOT NULL, role text NOT NULL,
        PRIMARY KEY (project, principal_id));
    CREATE INDEX auth_grants_principal ON auth_grants (principal_id);
    CREATE TABLE auth_token_usage (token_id text PRIMARY KEY, last_used_at timestamptz NOT NULL);
    """,
]


def principal_stream(principal_id: str) -> str:
    return f"principal-{principal_id}"


def grant_stream(project: str) -> str:
    return f"grant-{project}"


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _ts_or_none(t: float) -> datetime | None:
    return _ts(t) if t else None


async def apply(conn: asyncpg.Connection, event: Event) -> None:
    match event:
        case PrincipalCreated():
            await conn.execute(
                "INSERT INTO auth_principals VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                event.principal_id,
                event.kind,
                event.global_admin,
                _ts(event.created_at),
            )
        case TokenIssued():
            await conn.execute(
                "INSERT INTO auth_tokens (token_id, principal_id, name, secret_sha256, issued_at, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                event.token_id,
                event.principal_id,
                event.name,
                event.secret_sha256,
                _ts(event.issued_at),
                _ts_or_none(event.expires_at),
            )
        case TokenRevoked():
            await conn.execute(
                "UPDATE auth_tokens SET revoked_at = $2 WHERE token_id = $1 AND revoked_at IS NULL",
                event.token_id,
                _ts(event.revoked_at),
            )
        case RoleGranted():
            await conn.execute(
                "INSERT INTO auth_grants VALUES ($1, $2, $3)"
                " ON CONFLICT (project, principal_id) DO UPDATE SET role = excluded.role",
                event.project,
                event.principal_id,
                event.role,
            )
        case RoleRevoked():
            await conn.execute(
                "DELETE FROM auth_grants WHERE project = $1 AND principal_id = $2", event.project, event.principal_id
            )


async def rebuild(pool: asyncpg.Pool) -> int:
    async def replay(conn: asyncpg.Connection, env: Envelope) -> None:
        await apply(conn, env.event())

    return await projection.rebuild(pool, tables=TABLES, stream_prefixes=STREAM_PREFIXES, apply=replay)
