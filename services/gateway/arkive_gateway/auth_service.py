"""AuthService: who am I, tokens and grants. Secrets are generated here and only their sha256 leaves
the gateway; ingest (the owner) decides what the caller may change and records it as events."""

from __future__ import annotations

import time

from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.tokens import new_token

from arkive_common import api_auth as aa
from arkive_common.contract import Req, Resp, Rpc
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import auth_service_pb2 as pb
from arkive_proto.v1 import auth_service_pb2_grpc

from .auth_check import TokenCache
from .auth_interceptor import CURRENT
from .errors import unary


def _info(v: aa.TokenView) -> pb.TokenInfo:
    return pb.TokenInfo(
        token_id=v.token_id,
        principal_id=v.principal_id,
        name=v.name,
        issued_at=v.issued_at,
        expires_at=v.expires_at,
        revoked_at=v.revoked_at,
        last_used_at=v.last_used_at,
    )


def _caller() -> aa.TokenAuth:
    record = CURRENT.get()
    if record is None:
        raise FailedPrecondition("authentication is off on this gateway (ARKIVE_AUTH=off): there are no principals")
    return record


class AuthServicer(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self, rpc: RpcClient, tokens: TokenCache | None) -> None:
        self.rpc = rpc
        self.tokens = tokens

    async def _ingest(self, rpc: Rpc[Req, Resp], request: Req) -> Resp:
        result = await self.rpc.call(rpc, request)
        if self.tokens is not None:  # this replica sees its own change at once (others via the bus)
            self.tokens.clear()
        return result

    @unary
    async def WhoAmI(self, request: pb.WhoAmIRequest, context) -> pb.WhoAmIResponse:
        me = _caller()
        return pb.WhoAmIResponse(
            principal_id=me.principal_id,
            kind=me.kind,
            global_admin=me.global_admin,
            roles=me.grants,
            token_id=me.token_id,
        )

    @unary
    async def CreateToken(self, request: pb.CreateTokenRequest, context) -> pb.CreateTokenResponse:
        me = _caller()
        if request.expires_in_seconds < 0:
            raise InvalidArgument("expires_in_seconds must not be negative")
        if bool(request.project) != bool(request.role):
            raise InvalidArgument("project and role go together")
        token = new_token()
        cmd = aa.IssueToken(
            actor=me.principal_id,
            principal_id=request.principal_id,
            kind=request.kind or "service",
            global_admin=request.global_admin,
            token_id=token.token_id,
            token_name=request.token_name,
            secret_sha256=token.secret_sha256,
            expires_at=time.time() + request.expires_in_seconds if request.expires_in_seconds else 0.0,
            project=request.project,
            role=request.role,
        )
        view = await self._ingest(INGEST.issue_token, cmd)
        return pb.CreateTokenResponse(token=str(token), info=_info(view))

    @unary
    async def ListTokens(self, request: pb.ListTokensRequest, context) -> pb.ListTokensResponse:
        page = await self.rpc.call(INGEST.list_tokens, aa.ListTokens(_caller().principal_id, request.all))
        return pb.ListTokensResponse(tokens=[_info(v) for v in page.tokens])

    @unary
    async def RevokeToken(self, request: pb.RevokeTokenRequest, context) -> pb.RevokeTokenResponse:
        view = await self._ingest(INGEST.revoke_token, aa.RevokeToken(_caller().principal_id, request.token_id))
        return pb.RevokeTokenResponse(info=_info(view))

    @unary
    async def GrantRole(self, request: pb.GrantRoleRequest, context) -> pb.GrantRoleResponse:
        if not request.role:
            raise InvalidArgument("role is required: reader, writer or admin")
        cmd = aa.Grant(_caller().principal_id, request.project, request.principal_id, request.role)
        return pb.GrantRoleResponse(changed=(await self._ingest(INGEST.grant, cmd)).changed)

    @unary
    async def RevokeRole(self, request: pb.RevokeRoleRequest, context) -> pb.RevokeRoleResponse:
        cmd = aa.Grant(_caller().principal_id, request.project, request.principal_id, "")
        return pb.RevokeRoleResponse(changed=(await self._ingest(INGEST.revoke_grant, cmd)).changed)

    @unary
    async def ListAuditEvents(self, request: pb.ListAuditEventsRequest, context) -> pb.ListAuditEventsResponse:
        q = aa.AuditQuery(
            actor=_caller().principal_id,
            project=request.project,
            since=request.since,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await self.rpc.call(INGEST.audit, q)
        events = [
            pb.AuditEvent(
                position=e.position,
                recorded_at=e.recorded_at,
                principal_id=e.principal,
                type=e.type,
                stream_id=e.stream_id,
                correlation_id=e.correlation_id,
            )
            for e in page.events
        ]
        return pb.ListAuditEventsResponse(events=events, next_page_token=page.next_page_token)
