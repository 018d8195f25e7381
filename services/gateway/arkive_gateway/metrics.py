"""Prometheus metrics and trace spans of the gateway's gRPC calls, from a grpc.aio server interceptor.

Each call runs in a SERVER span (its parent is the client's `traceparent` metadata when it sent one),
current while the handler runs: the bus RPCs it makes carry the trace on (arkive_common.tracing).

Names and labels follow go-grpc-prometheus (`grpc_server_handled_total`, `grpc_server_handling_seconds`)
so the usual dashboards work. py-grpc-prometheus has no grpc.aio interceptor, hence this one.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from arkive_common import tracing

HANDLED = Counter(
    "grpc_server_handled_total",
    "gRPC calls completed by the gateway, by method and status code",
    ["grpc_service", "grpc_method", "grpc_type", "grpc_code"],
)
LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Time the gateway took to complete a gRPC call",
    ["grpc_service", "grpc_method", "grpc_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
_TYPES = {
    "unary_unary": "unary",
    "unary_stream": "server_stream",
    "stream_unary": "client_stream",
    "stream_stream": "bidi_stream",
}


def _code(context: grpc.aio.ServicerContext, exc: BaseException | None) -> str:
    """The status the client sees: set by abort()/set_code(), else OK, UNKNOWN or CANCELLED."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if exc is None:
        return "OK"
    return "CANCELLED" if isinstance(exc, asyncio.CancelledError) else "UNKNOWN"


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts every call by (service, method, type, code) and observes its latency."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        service, _, method = details.method.lstrip("/").rpartition("/")
        for kind, grpc_type in _TYPES.items():
            behavior = getattr(handler, kind)
            if behavior is not None:
                return handler._replace(**{kind: _wrap(behavior, (service, method, grpc_type))})
        return handler


def _wrap(behavior: Callable[..., Any], labels: tuple[str, str, str]) -> Callable[..., Any]:
    def record(context: grpc.aio.ServicerContext, start: float, exc: BaseException | None) -> None:
        HANDLED.labels(*labels, _code(context, exc)).inc()
        LATENCY.labels(*labels).observe(time.perf_counter() - start)

    name = f"grpc {labels[0]}/{labels[1]}"

    if inspect.isasyncgenfunction(behavior):  # a server-streaming handler that yields responses

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            start, exc = time.perf_counter(), None
            with tracing.span(name, _trace_headers(context), kind=SpanKind.SERVER):
                try:
                    async for item in behavior(request, context):
                        yield item
                except BaseException as e:
                    exc = e
                    raise
                finally:
                    record(context, start, exc)

        return stream

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        start, exc = time.perf_counter(), None
        with tracing.span(name, _trace_headers(context), kind=SpanKind.SERVER):
            try:
                return await behavior(request, context)
            except BaseException as e:
                exc = e
                raise
            finally:
                record(context, start, exc)

    return call


def _trace_headers(context: grpc.aio.ServicerContext) -> dict[str, str] | None:
    """The client's W3C trace context from the call's metadata, if it sent one."""
    found = {k: v for k, v in context.invocation_metadata() or () if k in ("traceparent", "tracestate")}
    return found or None
