"""The gateway clients the pages use: one AsyncClient per API token (and one for signed-out visitors).

The token a user signed in with is their credential at the gateway: every call made for their
request carries it as `authorization: Bearer <token>` (AsyncClient's api_key), and nothing else
(never the web service's own environment's key; "" for signed-out visitors).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from arkive import AsyncClient

MAX_CLIENTS = 64  # tokens with an open channel; the least recently used is closed beyond this


def make_client(address: str, token: str, **options: Any) -> AsyncClient:
    return AsyncClient(address, api_key=token, **options)


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
