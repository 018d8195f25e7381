"""Connection: an AsyncClient's link to the gateway, and the engine's Transport (engine/transport.py).

It holds the address, credentials, timeouts and retry deadline; makes one grpc.aio channel per
event loop; and sends unary calls by their kind (_rpc.CALL_KINDS) within the retry deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from arkive_core.errors import ArkiveError

from ._rpc import IDEMPOTENT_CALL_TIMEOUT, Retry, call, call_idempotent, open_channel
from .engine.wire import BlobStub


class Connection:
    def __init__(self, address: str, api_key: str, timeout: float, retry_deadline: float) -> None:
        self.address = address
        self.api_key = api_key
        self.timeout = timeout
        self.retry_deadline = retry_deadline
        self._channel: grpc.aio.Channel | None = None
        self._channel_loop: asyncio.AbstractEventLoop | None = None

    def channel(self) -> grpc.aio.Channel:
        # Made on first use so it binds to the loop that runs the calls; remade if that loop
        # changed (e.g. two asyncio.run() calls), since a grpc.aio channel only works on its own.
        loop = asyncio.get_running_loop()
        if self._channel is None or self._channel_loop is not loop:
            self._channel = open_channel(self.address, self.api_key)
            self._channel_loop = loop
        return self._channel

    def blobs(self) -> BlobStub:
        return BlobStub(self.channel(), self.retry_deadline)

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None and self._channel_loop is asyncio.get_running_loop():
            await channel.close()

    def _retry(self) -> Retry:
        return Retry(self.retry_deadline, self._channel)

    async def call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        """A unary call, retried within the retry deadline if its kind (_rpc.CALL_KINDS) is
        IDEMPOTENT, else sent once; both wait for a (re)connecting channel."""
        return await call(method, request, self.address, timeout or self.timeout, self._retry())

    @property
    def idempotent_timeout(self) -> float:
        return min(self.timeout, IDEMPOTENT_CALL_TIMEOUT)

    async def call_idempotent(self, method: Any, request: Any) -> Any:
        """For calls that are safe to repeat: retried on UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED."""
        return await call_idempotent(method, request, self.address, self.idempotent_timeout, self._retry())

    async def pages(self, make: Callable[[str], Any], method: Any) -> AsyncIterator[Any]:
        """The responses of a paged listing: make(page_token) is each page's request."""
        token = ""
        while True:
            page = await self.call(method, make(token))
            yield page
            if not page.next_page_token:
                return
            if page.next_page_token == token:
                raise ArkiveError("the server returned the same page token twice")
            token = page.next_page_token
