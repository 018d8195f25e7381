"""Who caused what: the principal and correlation id of the call being served, carried from the
gateway through bus RPCs (as NATS headers) to the events appended on its behalf (the `principal`
and `correlation_id` columns of the log), so `arkive audit` can say who did what.

A contextvar: each gRPC call and each bus request runs in its own asyncio task, so the value never
leaks between calls. Work no call asked for (sweeps, crash detection) has no context ("" = system).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

PRINCIPAL_HEADER = "Arkive-Principal"
CORRELATION_HEADER = "Arkive-Correlation-Id"


@dataclass(frozen=True, slots=True)
class CallContext:
    principal: str = ""
    correlation_id: str = ""

    def headers(self) -> dict[str, str]:
        return {PRINCIPAL_HEADER: self.principal, CORRELATION_HEADER: self.correlation_id}

    @classmethod
    def from_headers(cls, headers: dict[str, str] | None) -> CallContext | None:
        if not headers or CORRELATION_HEADER not in headers:
            return None
        return cls(headers.get(PRINCIPAL_HEADER, ""), headers.get(CORRELATION_HEADER, ""))


CURRENT: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("arkive_call", default=None)


def current() -> CallContext:
    return CURRENT.get() or CallContext()
