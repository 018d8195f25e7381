"""Metrics and spans of bus RPCs, as two decorators and one call, so the RPC layer (rpc.py) carries
only three lines of observability: `@observed_call` on the client's call, `@observed_serve` on the
server's per-request task, and `served(code)` once the server knows its reply's outcome.

The client's span is current while it sends, so `tracing.inject_headers` puts its traceparent in the
request's NATS headers; the server's span continues from them.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from arkive_core.errors import ArkiveError
from opentelemetry.trace import SpanKind

from . import tracing
from .metrics import BUS_RPC_CALLS, BUS_RPC_SECONDS

T = TypeVar("T")
P = ParamSpec("P")
_OUTCOME: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("arkive_rpc_outcome", default=None)


def _target(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str]:
    """(service, method) of a `call(self, rpc, request, ...)`, the contract passed by position or by name."""
    rpc = kwargs["rpc"] if "rpc" in kwargs else args[1]
    return str(rpc.service), str(rpc.name)


def observed_call(call: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """For `RpcClient.call(self, rpc, request, ...)`: a CLIENT span, the latency and the outcome.
    (ParamSpec keeps the call's signature, and so its typed result, for mypy.)"""

    @functools.wraps(call)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        service, method = _target(args, kwargs)
        start, outcome = time.perf_counter(), "OK"
        with tracing.span(f"bus {service}.{method}", kind=SpanKind.CLIENT) as s:
            try:
                return await call(*args, **kwargs)
            except ArkiveError as exc:
                outcome = exc.code.name
                s.set_attribute("arkive.rpc.code", outcome)
                raise
            except BaseException:
                outcome = "UNKNOWN"
                raise
            finally:
                BUS_RPC_CALLS.labels("client", service, method, outcome).inc()
                BUS_RPC_SECONDS.labels("client", service, method).observe(time.perf_counter() - start)

    return wrapper


def observed_serve(serve: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., Coroutine[Any, Any, None]]:
    """For `RpcServer._serve(self, data, headers, reply_to, registered, decoder)`: a SERVER span
    continuing the caller's trace (from the request's headers), the handler's latency and the reply's
    outcome."""

    @functools.wraps(serve)
    async def wrapper(self: Any, data: bytes, headers: Any, reply_to: Any, registered: Any, decoder: Any) -> None:
        service, name = getattr(self, "_service", "?"), registered.rpc.name
        start, outcome = time.perf_counter(), ["UNKNOWN"]
        token = _OUTCOME.set(outcome)
        s, attached = tracing.attach_remote(headers, f"bus {service}.{name}", SpanKind.SERVER)
        try:
            await serve(self, data, headers, reply_to, registered, decoder)
        finally:
            tracing.detach(s, attached, "" if outcome[0] == "OK" else outcome[0])
            _OUTCOME.reset(token)
            BUS_RPC_CALLS.labels("server", service, name, outcome[0]).inc()
            BUS_RPC_SECONDS.labels("server", service, name).observe(time.perf_counter() - start)

    return wrapper


def served(code: str) -> None:
    """The server's reply outcome ("" or an error code name) for the request being served."""
    outcome = _OUTCOME.get()
    if outcome is not None:
        outcome[0] = code or "OK"
