"""The gateway's server interceptor: every RPC but the health check and reflection needs a valid API
token, and the role its rule names on the project the request concerns.

Authentication happens before the handler is chosen; the per-project check runs in a wrapper around
the handler, where the request (and so its project, draft, run or ref) is known. Client-streaming
methods (uploads) have rules that need no request field, so they are checked before the stream is
read. The authenticated record is left in `CURRENT` for handlers that act on behalf of the caller,
and the principal with the call's correlation id (the client's `x-request-id`, else a new uuid) in
arkive_common.context, whence bus calls carry them to the events they append.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from arkive_core.errors import ArkiveError, PermissionDenied

from arkive_common import api_auth as aa
from arkive_common import context as call_context
from arkive_common.rpc import RpcClient

from .auth_check import Resolver, TokenCache, authorize
from .auth_rules import ANONYMOUS, RULES, Rule
from .errors import _drain, status_of
from .malformed import Malformed

CURRENT: contextvars.ContextVar[aa.TokenAuth | None] = contextvars.ContextVar("arkive_auth", default=None)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, rpc: RpcClient) -> None:
        self.tokens = TokenCache(rpc)
        self.resolver = Resolver(rpc)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method in ANONYMOUS:
            return handler
        rule = RULES.get(method)
        authorization, request_id = "", ""
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                authorization = value if isinstance(value, str) else value.decode()
            elif key == "x-request-id":
                request_id = (value if isinstance(value, str) else value.decode())[:128]
        record: aa.TokenAuth | None = None
        error: ArkiveError | None = None
        try:
            record = await self.tokens.authenticate(authorization)
            if rule is None:
                error = PermissionDenied(f"{method} has no access rule: refused")
        except ArkiveError as exc:
            error = exc
        return self._wrap(handler, rule, record, error, request_id)

    def _wrap(
        self,
        h: grpc.RpcMethodHandler,
        rule: Rule | None,
        record: aa.TokenAuth | None,
        error: ArkiveError | None,
        request_id: str,
    ) -> grpc.RpcMethodHandler:
        resolver = self.resolver

        async def admit(request: Any, context: grpc.aio.ServicerContext) -> None:
            try:
                if error is not None:
                    raise error
                assert record is not None and rule is not None
                if not isinstance(request, Malformed):  # unparsable bytes: the guard refuses them next
                    await authorize(record, rule, request, resolver)
            except ArkiveError as exc:
                if hasattr(request, "__aiter__"):  # let an uploading client finish sending (see errors.py)
                    await _drain(request)
                await context.abort(status_of(exc), exc.message)
            CURRENT.set(record)
            # the principal and correlation id travel with every bus call to the events appended
            correlation = request_id or os.urandom(16).hex()  # a random uuid's worth, cheaper than uuid4()
            call_context.CURRENT.set(call_context.CallContext(record.principal_id if record else "", correlation))

        if h.unary_unary is not None:
            inner_uu = h.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await admit(request, context)
                return await inner_uu(request, context)

            return h._replace(unary_unary=unary_unary)
        if h.unary_stream is not None:
            inner_us = h.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await admit(request, context)
                async for item in inner_us(request, context):
                    yield item

            return h._replace(unary_stream=unary_stream)
        if h.stream_unary is not None:
            inner_su = h.stream_unary

            async def stream_unary(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                await admit(requests, context)  # rules of streamed requests read no request field
                return await inner_su(requests, context)

            return h._replace(stream_unary=stream_unary)
        inner_ss = h.stream_stream

        async def stream_stream(requests: Any, context: grpc.aio.ServicerContext) -> Any:
            await admit(requests, context)
            async for item in inner_ss(requests, context):
                yield item

        return h._replace(stream_stream=stream_stream)
