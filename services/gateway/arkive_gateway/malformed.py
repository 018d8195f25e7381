"""Requests whose bytes do not parse: INVALID_ARGUMENT and one log line, for every RPC.

grpc's server parses a request before the servicer runs; a parser that raises makes grpc log a
traceback and answer UNKNOWN, and no servicer code can catch it. So every method is registered
with its parser wrapped: a parse error becomes a Malformed value, and the method's behaviour
(wrapped too) aborts the call with INVALID_ARGUMENT when it sees one: a unary request at once,
a request stream when the bad message is read (as a MalformedRequest raised to the reader).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from arkive_core.errors import InvalidArgument

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Malformed:
    """Stands in for a request message that did not parse."""

    error: str


def _safe(parse: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if parse is None:
        return None

    def parse_or_mark(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception as exc:  # DecodeError, and anything a hand-written parser (wire.py) raises
            return Malformed(f"{type(exc).__name__}: {exc}")

    return parse_or_mark


class MalformedRequest(InvalidArgument):
    """Raised to the servicer reading a request stream: its error handling answers with it (after
    draining the stream), and the guard below answers if the servicer lets it through."""


def _refusal(method: str, bad: Malformed, context: grpc.aio.ServicerContext) -> MalformedRequest:
    log.warning("malformed request to %s from %s: %s", method, context.peer(), bad.error)
    return MalformedRequest(f"malformed request: the bytes are not a valid {method} request message")


async def _refuse(method: str, bad: Malformed, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _refusal(method, bad, context).message)


async def _replies(result: Any) -> AsyncIterator:
    """A streaming behaviour is an async generator, or a coroutine that writes with context.write()."""
    if inspect.isasyncgen(result):
        async for reply in result:
            yield reply
    else:
        await result


def _guard(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    if handler.request_streaming:
        inner = handler.stream_unary or handler.stream_stream

        async def checked(requests: AsyncIterator, context) -> AsyncIterator:
            async for request in requests:
                if isinstance(request, Malformed):
                    raise _refusal(method, request, context)
                yield request

        if handler.stream_unary is not None:

            @functools.wraps(inner)
            async def stream_unary(requests, context):
                try:
                    return await inner(checked(requests, context), context)
                except MalformedRequest as exc:
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)

            return handler._replace(stream_unary=stream_unary, request_deserializer=_safe(handler.request_deserializer))

        @functools.wraps(inner)
        async def stream_stream(requests, context):
            try:
                async for reply in _replies(inner(checked(requests, context), context)):
                    yield reply
            except MalformedRequest as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)

        return handler._replace(stream_stream=stream_stream, request_deserializer=_safe(handler.request_deserializer))

    if handler.unary_unary is not None:
        inner = handler.unary_unary

        @functools.wraps(inner)
        async def unary_unary(request, context):
            if isinstance(request, Malformed):
                await _refuse(method, request, context)
            return await inner(request, context)

        return handler._replace(unary_unary=unary_unary, request_deserializer=_safe(handler.request_deserializer))

    inner = handler.unary_stream

    @functools.wraps(inner)
    async def unary_stream(request, context):
        if isinstance(request, Malformed):
            await _refuse(method, request, context)
        async for reply in _replies(inner(request, context)):
            yield reply

    return handler._replace(unary_stream=unary_stream, request_deserializer=_safe(handler.request_deserializer))


class GuardedRegistration:
    """Stands in for the server in a generated add_*Servicer_to_server call: registers every method
    with its parser guarded (above), after replacing some parsers (`parsers`, see wire.py)."""

    def __init__(self, server: grpc.aio.Server, parsers: Mapping[str, Callable[[bytes], Any]] | None = None) -> None:
        self._server = server
        self._parsers = parsers or {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass  # made again from the registered method handlers below

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        guarded = {}
        for name, handler in handlers.items():
            if name in self._parsers:
                handler = handler._replace(request_deserializer=self._parsers[name])
            guarded[name] = _guard(f"{service}.{name}", handler)
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, guarded),))
        self._server.add_registered_method_handlers(service, guarded)
