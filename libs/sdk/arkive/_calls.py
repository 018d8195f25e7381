"""How AsyncClient sends unary calls: each by its kind (_rpc.CALL_KINDS), within the client's
retry deadline, on the client's channel."""

from __future__ import annotations

from typing import Any

import grpc

from ._rpc import IDEMPOTENT_CALL_TIMEOUT, Retry, call, call_idempotent


class CallsMixin:
    """Needs address, timeout, retry_deadline and _channel (AsyncClient has them)."""

    address: str
    timeout: float
    retry_deadline: float
    _channel: grpc.aio.Channel | None

    def _retry(self) -> Retry:
        return Retry(self.retry_deadline, self._channel)

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        """A unary call, retried within the retry deadline if its kind (_rpc.CALL_KINDS) is
        IDEMPOTENT, else sent once; both wait for a (re)connecting channel."""
        return await call(method, request, self.address, timeout or self.timeout, self._retry())

    @property
    def _idempotent_timeout(self) -> float:
        return min(self.timeout, IDEMPOTENT_CALL_TIMEOUT)

    async def _call_idempotent(self, method: Any, request: Any) -> Any:
        """For calls that are safe to repeat: retried on UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED."""
        return await call_idempotent(method, request, self.address, self._idempotent_timeout, self._retry())
