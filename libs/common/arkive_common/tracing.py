"""OpenTelemetry traces: one trace from a gRPC call at the gateway through bus RPCs to the events
appended and the consumers that apply them.

The W3C `traceparent` travels in the NATS headers of a bus RPC, is stored with each event (the
`traceparent` column of the log) and copied by the outbox relay into the headers of the published
message, so a consumer's span continues the trace that caused the event.

Export only when configured: `configure()` installs the SDK with an OTLP/gRPC exporter when
OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set and OTEL_SDK_DISABLED is
not true; the standard OTEL_* variables (headers, sampler, timeout...) apply. Otherwise the API's
no-op tracer runs: spans cost a function call, and a traceparent that came in is still passed on
(its spans unrecorded), so an untraced process in the middle does not cut a trace in two.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

log = logging.getLogger(__name__)
TRACEPARENT = "traceparent"
tracer = trace.get_tracer("arkive")


def configure(service: str) -> bool:
    """Installs the SDK with OTLP export if the environment asks for it; True if it did."""
    wanted = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not wanted or os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    # Imported here: a process without tracing never loads the SDK or the exporter's gRPC stubs.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"arkive-{service}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("traces exported over OTLP to %s", wanted)
    return True


def shutdown() -> None:
    """Flushes spans still buffered (the SDK's provider only; the no-op one has nothing)."""
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "shutdown", None)
    if flush is not None:
        flush()


def inject_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """`headers` plus the current span's traceparent (unchanged when there is no valid span)."""
    carrier: dict[str, str] = {}
    inject(carrier)
    if not carrier:
        return headers
    return {**(headers or {}), **carrier}


def current_traceparent() -> str:
    """The W3C traceparent of the current span, "" outside any trace (stored with appended events)."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get(TRACEPARENT, "")


@contextmanager
def span(
    name: str,
    parent_headers: Mapping[str, str] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A span made current for the block; its parent is the traceparent in `parent_headers` when
    given (a message from another process), else the current span. Exceptions mark it as an error."""
    parent = extract(dict(parent_headers)) if parent_headers else None
    with tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes) as s:
        yield s


def attach_remote(headers: Mapping[str, str] | None, name: str, kind: SpanKind) -> tuple[Span, object]:
    """Starts a span whose parent comes from `headers` and makes it current until `detach`."""
    parent = extract(dict(headers)) if headers else None
    s = tracer.start_span(name, context=parent, kind=kind)
    token = otel_context.attach(trace.set_span_in_context(s, parent))
    return s, token


def detach(s: Span, token: object, error: str = "") -> None:
    if error:
        s.set_status(Status(StatusCode.ERROR, error))
    s.end()
    otel_context.detach(token)  # type: ignore[arg-type]


def ids() -> tuple[str, str]:
    """(trace id, span id) of the current span in hex, ("", "") outside a trace (for log lines)."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return "", ""
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
