"""Principals, API tokens and project roles (AuthService): who am I, create/list/revoke tokens,
grant and revoke roles. The client sends its own token (ARKIVE_API_KEY or the credentials file)
with every call; see the README's "Security" section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arkive_proto.v1 import auth_service_pb2 as pb
from arkive_proto.v1 import auth_service_pb2_grpc as grpc_auth

from ._feature import Feature


@dataclass(frozen=True)
class Identity:
    principal_id: str
    kind: str
    global_admin: bool
    roles: dict[str, str]
    token_id: str


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    principal_id: str
    name: str
    issued_at: float
    expires_at: float  # 0: never
    revoked_at: float  # 0: not revoked
    last_used_at: float  # 0: never used (updated at most once a minute)


@dataclass(frozen=True)
class NewToken:
    token: str  # ark_<id>_<secret>: shown once, the server keeps only a hash
    info: TokenInfo


@dataclass(frozen=True)
class AuditEvent:
    position: int
    recorded_at: float
    principal_id: str  # "" for the system's own work (sweeps, crash detection)
    type: str
    stream_id: str
    correlation_id: str


def _info(t: pb.TokenInfo) -> TokenInfo:
    return TokenInfo(t.token_id, t.principal_id, t.name, t.issued_at, t.expires_at, t.revoked_at, t.last_used_at)


class Auth(Feature):
    """Auth methods of AsyncClient."""

    @property
    def _auth(self) -> grpc_auth.AuthServiceStub:
        return grpc_auth.AuthServiceStub(self._ch())

    async def _auth_call(self, name: str, request: Any) -> Any:
        return await self._call(getattr(self._auth, name), request)

    async def whoami(self) -> Identity:
        r = await self._auth_call("WhoAmI", pb.WhoAmIRequest())
        return Identity(r.principal_id, r.kind, r.global_admin, dict(r.roles), r.token_id)

    async def create_token(
        self,
        principal: str,
        *,
        project: str = "",
        role: str = "",
        expires_in: float = 0,
        kind: str = "service",
        token_name: str = "",
        global_admin: bool = False,
    ) -> NewToken:
        """A new token for `principal` (created as a service account, or a user with kind="user", when
        new); with project and role, also grants that role. expires_in: seconds, 0 = never."""
        request = pb.CreateTokenRequest(
            principal_id=principal,
            kind=kind,
            token_name=token_name,
            expires_in_seconds=int(expires_in),
            project=project,
            role=role,
            global_admin=global_admin,
        )
        r = await self._auth_call("CreateToken", request)
        return NewToken(r.token, _info(r.info))

    async def list_tokens(self, *, all: bool = False) -> list[TokenInfo]:
        r = await self._auth_call("ListTokens", pb.ListTokensRequest(all=all))
        return [_info(t) for t in r.tokens]

    async def revoke_token(self, token_id: str) -> TokenInfo:
        return _info((await self._auth_call("RevokeToken", pb.RevokeTokenRequest(token_id=token_id))).info)

    async def grant(self, project: str, principal: str, role: str) -> bool:
        request = pb.GrantRoleRequest(project=project, principal_id=principal, role=role)
        return (await self._auth_call("GrantRole", request)).changed

    async def revoke_grant(self, project: str, principal: str) -> bool:
        request = pb.RevokeRoleRequest(project=project, principal_id=principal)
        return (await self._auth_call("RevokeRole", request)).changed

    async def audit(self, project: str = "", *, since: float = 0.0, limit: int = 0) -> list[AuditEvent]:
        """Events of `project` (its admins) or of everything (global admins), oldest first, with the
        principal that asked for each; `since` in Unix seconds; `limit` 0 = all."""
        out: list[AuditEvent] = []
        token = ""
        while True:
            request = pb.ListAuditEventsRequest(project=project, since=since, page_size=1000, page_token=token)
            r = await self._auth_call("ListAuditEvents", request)
            out += [
                AuditEvent(e.position, e.recorded_at, e.principal_id, e.type, e.stream_id, e.correlation_id)
                for e in r.events
            ]
            token = r.next_page_token
            if not token or (limit and len(out) >= limit):
                return out[:limit] if limit else out
