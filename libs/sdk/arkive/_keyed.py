"""Sending the API token with every call: the SDK's KeyedChannel, and client interceptors for raw
channels in tests and tools."""

from __future__ import annotations

from typing import Any

import grpc


class _Bearer:
    """Adds `authorization: Bearer <API token>` to every call's metadata, as client interceptors (for
    raw channels in tests and tools; the SDK's own channel is a cheaper KeyedChannel)."""

    def __init__(self, api_key: str) -> None:
        self._pair = ("authorization", f"Bearer {api_key}")

    def _with_key(self, details: Any) -> Any:
        return details._replace(metadata=grpc.aio.Metadata(*(details.metadata or ()), self._pair))


class _BearerUnaryUnary(_Bearer, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(self._with_key(details), request)


class _BearerUnaryStream(_Bearer, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(self._with_key(details), request)


class _BearerStreamUnary(_Bearer, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, details, requests):
        return await continuation(self._with_key(details), requests)


class _BearerStreamStream(_Bearer, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, details, requests):
        return await continuation(self._with_key(details), requests)


class _KeyedCall:
    __slots__ = ("_inner", "_pair")

    def __init__(self, inner: Any, pair: tuple[str, str]) -> None:
        self._inner, self._pair = inner, pair

    def __call__(self, request: Any, *, metadata: Any = None, **kwargs: Any) -> Any:
        return self._inner(request, metadata=(*metadata, self._pair) if metadata else (self._pair,), **kwargs)

    def __getattr__(self, name: str) -> Any:  # _method: _rpc.call_kind finds the call's kind by it
        return getattr(self._inner, name)


class KeyedChannel:
    """A channel whose every call carries `authorization: Bearer <API token>`. It wraps the channel's
    multicallables rather than using grpc.aio client interceptors, which cost an extra task and
    about a millisecond per call here (benchmarks/auth_overhead.py)."""

    def __init__(self, channel: grpc.aio.Channel, api_key: str) -> None:
        self._channel = channel
        self._pair = ("authorization", f"Bearer {api_key}")

    def unary_unary(self, *args: Any, **kwargs: Any) -> Any:
        return _KeyedCall(self._channel.unary_unary(*args, **kwargs), self._pair)

    def unary_stream(self, *args: Any, **kwargs: Any) -> Any:
        return _KeyedCall(self._channel.unary_stream(*args, **kwargs), self._pair)

    def stream_unary(self, *args: Any, **kwargs: Any) -> Any:
        return _KeyedCall(self._channel.stream_unary(*args, **kwargs), self._pair)

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return _KeyedCall(self._channel.stream_stream(*args, **kwargs), self._pair)

    def __getattr__(self, name: str) -> Any:  # close(), get_state(), channel_ready()...
        return getattr(self._channel, name)


def bearer_interceptors(api_key: str) -> list[Any]:
    """Client interceptors that send the API token with every call (none without a token)."""
    if not api_key:
        return []
    return [cls(api_key) for cls in (_BearerUnaryUnary, _BearerUnaryStream, _BearerStreamUnary, _BearerStreamStream)]
