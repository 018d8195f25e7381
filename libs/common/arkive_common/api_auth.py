"""Bus messages of authentication (owned by ingest: principals, tokens and grants).

The gateway generates token secrets and sends only their sha256; `actor` is the authenticated
principal the gateway saw, and ingest decides from its own tables what that actor may change.
"""

from __future__ import annotations

import msgspec


class TokenLookup(msgspec.Struct, frozen=True):
    token_id: str


class TokenAuth(msgspec.Struct, frozen=True):
    """What the gateway needs to authenticate a token and authorize its calls."""

    found: bool
    token_id: str = ""
    principal_id: str = ""
    kind: str = ""
    global_admin: bool = False
    secret_sha256: str = ""
    expires_at: float = 0.0  # 0 = never
    revoked: bool = False
    grants: dict[str, str] = {}  # project -> role


class TokenTouch(msgspec.Struct, frozen=True):
    """Tokens used since the gateway last said so (it reports each at most once a minute)."""

    token_ids: list[str]
    at: float


class DraftRef(msgspec.Struct, frozen=True):
    draft_id: str


class ProjectOf(msgspec.Struct, frozen=True):
    project: str


class IssueToken(msgspec.Struct, frozen=True, kw_only=True):
    actor: str
    principal_id: str
    kind: str = "service"  # for a new principal: "user" or "service"
    global_admin: bool = False
    token_id: str
    token_name: str = ""
    secret_sha256: str
    expires_at: float = 0.0
    project: str = ""  # grant `role` on it (a new service account for a project admin)
    role: str = ""


class TokenView(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    principal_id: str
    name: str
    issued_at: float
    expires_at: float = 0.0
    revoked_at: float = 0.0
    last_used_at: float = 0.0


class RevokeToken(msgspec.Struct, frozen=True):
    actor: str
    token_id: str


class ListTokens(msgspec.Struct, frozen=True):
    actor: str
    all: bool = False


class TokenPage(msgspec.Struct, frozen=True):
    tokens: list[TokenView]


class Grant(msgspec.Struct, frozen=True):
    actor: str
    project: str
    principal_id: str
    role: str = ""  # empty for a revocation


class Done(msgspec.Struct, frozen=True):
    changed: bool


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    actor: str
    project: str = ""
    since: float = 0.0
    page_size: int = 0
    page_token: str = ""


class AuditEntry(msgspec.Struct, frozen=True):
    position: int
    recorded_at: float
    principal: str
    type: str
    stream_id: str
    correlation_id: str


class AuditPage(msgspec.Struct, frozen=True):
    events: list[AuditEntry]
    next_page_token: str = ""
