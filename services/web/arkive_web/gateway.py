"""The gateway clients the pages use: one AsyncClient per API token (and one for signed-out visitors).

The token a user signed in with is their credential at the gateway: every call made for their
request carries it as `authorization: Bearer <token>`, and nothing else (never the web service's
own environment's key). The SDK on this branch has no per-client API key yet, so TokenClient
puts the header on its channel with gRPC client interceptors (`bearer_metadata` is the hook);
once AsyncClient takes `api_key=`, `make_client` passes it there instead.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import OrderedDict
from typing import Any

import grpc

from arkive import AsyncClient, _rpc

MAX_CLIENTS = 64  # tokens with an open channel; the least recently used is closed beyond this


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class _Bearer(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Adds the token to every call's metadata."""

    def __init__(self, token: str) -> None:
        self.metadata = bearer_metadata(token)

    def _with_token(self, details: Any) -> Any:
        metadata = tuple(details.metadata or ()) + self.metadata
        return details._replace(metadata=grpc.aio.Metadata(*metadata))

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_token(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_token(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._with_token(details), request_iterator)

    async def intercept_stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._with_token(details), request_iterator)


class TokenClient(AsyncClient):
    """An AsyncClient whose channel sends `token` with every call."""

    def __init__(self, address: str, token: str, **options: Any) -> None:
        super().__init__(address, **options)
        self._token = token

    def _ch(self) -> grpc.aio.Channel:
        import asyncio

        loop = asyncio.get_running_loop()
        if self._channel is None or self._channel_loop is not loop:
            interceptors = [_Bearer(self._token)]
            creds = _rpc.channel_credentials()
            if creds is not None:
                ch = grpc.aio.secure_channel(
                    self.address, creds, options=_rpc.CHANNEL_OPTIONS, interceptors=interceptors
                )
            else:
                ch = grpc.aio.insecure_channel(self.address, options=_rpc.CHANNEL_OPTIONS, interceptors=interceptors)
            self._channel, self._channel_loop = ch, loop
        return self._channel


def _sdk_takes_api_key() -> bool:
    return "api_key" in inspect.signature(AsyncClient.__init__).parameters


def make_client(address: str, token: str, **options: Any) -> AsyncClient:
    if _sdk_takes_api_key():
        return AsyncClient(address, api_key=token, **options)
    if token:
        return TokenClient(address, token, **options)
    return AsyncClient(address, **options)


class Clients:
    """Open clients by token (keyed by the token's sha256, so no token sits in a dict key)."""

    def __init__(self, address: str, retry_deadline: float = 5.0) -> None:
        self.address = address
        self.retry_deadline = retry_deadline
        self._open: OrderedDict[str, AsyncClient] = OrderedDict()

    async def get(self, token: str) -> AsyncClient:
        key = hashlib.sha256(token.encode()).hexdigest()
        client = self._open.pop(key, None)
        if client is None:
            client = make_client(self.address, token, timeout=30.0, retry_deadline=self.retry_deadline)
            if len(self._open) >= MAX_CLIENTS:
                _, oldest = self._open.popitem(last=False)
                await oldest.close()
        self._open[key] = client
        return client

    async def close(self) -> None:
        while self._open:
            _, client = self._open.popitem()
            await client.close()
