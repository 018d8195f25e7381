"""The Prometheus metrics a platform team alerts on, shared by every process (served on /metrics by
health_http). gRPC metrics live with the gateway's interceptor; events appended with the event log.

Gauges that need a database round trip (outbox lag, dead letters) are sampled by `LagSampler`, one
per process that owns a pool, every ARKIVE_METRICS_INTERVAL seconds (15 by default): a scrape then
never waits on PostgreSQL. Consumer lag (JetStream `num_pending`) is sampled by each consumer from
its own pull subscription, at the same interval. Every process of a deployment reads the same
outbox and dead-letter tables, so alert on `max` of those gauges, not `sum`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

import asyncpg
from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

BUS_RPC_CALLS = Counter(
    "arkive_bus_rpc_calls_total",
    "Bus RPCs by side (client: this process asked; server: this process answered), target and outcome code",
    ["side", "service", "method", "outcome"],
)
BUS_RPC_SECONDS = Histogram(
    "arkive_bus_rpc_seconds",
    "Bus RPC latency: the caller's wait (client) or the handler's time (server)",
    ["side", "service", "method"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_PENDING = Gauge("arkive_outbox_pending_events", "Committed events the outbox relay has not published yet")
OUTBOX_OLDEST_AGE = Gauge(
    "arkive_outbox_oldest_event_age_seconds", "Age of the oldest committed event not yet published (0: none)"
)
CONSUMER_PENDING = Gauge(
    "arkive_consumer_pending_messages",
    "Messages of the stream a durable consumer has not been delivered yet (JetStream num_pending)",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "arkive_consumer_ack_pending_messages", "Messages delivered to a durable consumer and not yet acked", ["consumer"]
)
CONSUMER_EVENTS = Counter(
    "arkive_consumer_events_total",
    "Events a consumer handled in this process by result (processed, duplicate, retried, waiting, parked)",
    ["consumer", "result"],
)
DEAD_LETTERS = Gauge("arkive_dead_letters", "Dead letters parked and not yet retried or discarded", ["consumer"])
BLOB_BYTES = Counter(
    "arkive_blob_bytes_total", "Bytes this process wrote to (uploaded) or read from (downloaded) S3", ["direction"]
)
GC_RUNS = Counter("arkive_gc_runs_total", "Blob garbage collections by result (ok, failed)", ["result"])
GC_DELETED_BLOBS = Counter("arkive_gc_deleted_blobs_total", "Blobs the garbage collector deleted")
GC_FREED_BYTES = Counter("arkive_gc_freed_bytes_total", "Bytes the garbage collector freed")
GC_SECONDS = Histogram("arkive_gc_seconds", "Duration of a garbage collection", buckets=_LATENCY_BUCKETS)
GC_LAST_SUCCESS = Gauge("arkive_gc_last_success_timestamp_seconds", "When a collection last finished (Unix time)")
RETENTION_RUNS = Counter(
    "arkive_retention_runs_total", "Retention applies by trigger (manual, scheduled) and result", ["trigger", "result"]
)
RETENTION_DELETED_VERSIONS = Counter(
    "arkive_retention_deleted_versions_total", "Versions retention deleted", ["trigger"]
)
RETENTION_SECONDS = Histogram(
    "arkive_retention_seconds", "Duration of a retention apply", ["trigger"], buckets=_LATENCY_BUCKETS
)
RETENTION_LAST_SUCCESS = Gauge(
    "arkive_retention_last_success_timestamp_seconds", "When a retention apply last succeeded (Unix time)", ["trigger"]
)
LAG_SAMPLED = Gauge("arkive_lag_sampled_timestamp_seconds", "When outbox lag and dead letters were last sampled")


def sample_interval() -> float:
    """ARKIVE_METRICS_INTERVAL: seconds between samples of the lag gauges (default 15, at least 0.1)."""
    raw = os.environ.get("ARKIVE_METRICS_INTERVAL", "").strip()
    try:
        return max(0.1, float(raw)) if raw else 15.0
    except ValueError:
        raise ValueError(f"ARKIVE_METRICS_INTERVAL must be a number of seconds, not {raw!r}") from None


_OUTBOX = """
    SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(e.recorded_at)), 0) AS age
    FROM outbox o JOIN events e ON e.position = o.position
"""
_DEAD = "SELECT consumer, count(*) AS n FROM dead_letters GROUP BY consumer"


async def sample_lag(pool: asyncpg.Pool) -> dict[str, float]:
    """Samples the outbox and dead-letter gauges once; returns what it set (for `arkive status`)."""
    async with pool.acquire(timeout=5) as conn:
        outbox = await conn.fetchrow(_OUTBOX)
        dead = await conn.fetch(_DEAD)
    OUTBOX_PENDING.set(outbox["n"])
    OUTBOX_OLDEST_AGE.set(float(outbox["age"]))
    seen = {r["consumer"]: r["n"] for r in dead}
    for consumer in {*seen, *_known_dead_letter_consumers()}:  # a consumer back at 0 must read 0
        DEAD_LETTERS.labels(consumer).set(seen.get(consumer, 0))
    LAG_SAMPLED.set(time.time())
    return {"outbox_pending": float(outbox["n"]), "outbox_oldest_age": float(outbox["age"])}


def _known_dead_letter_consumers() -> list[str]:
    return [labels["consumer"] for metric in DEAD_LETTERS.collect() for s in metric.samples for labels in [s.labels]]


class LagSampler:
    """A service runnable that samples the database-backed gauges until shut down."""

    def __init__(self, pool: asyncpg.Pool, interval: float | None = None) -> None:
        self._pool = pool
        self._interval = sample_interval() if interval is None else interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await sample_lag(self._pool)
            except Exception as exc:  # PostgreSQL away: the gauges keep their last value, the age says so
                log.debug("lag sample failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def shutdown(self) -> None:
        self._stop.set()
