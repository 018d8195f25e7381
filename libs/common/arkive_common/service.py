"""The runtime every service process shares: connections, the outbox relay, RPC server, consumers,
and a main() that turns SIGTERM/SIGINT into an orderly shutdown.

A service's `bootstrap(settings)` (its composition root) returns a `ServiceRuntime` with its pieces
attached; nothing connects anywhere before `start()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from . import bus, db, deadletters, eventlog, logs, tracing
from .config import Settings
from .consumer import EventConsumer
from .contract import Handlers
from .health_http import HealthConfig, HealthServer
from .metrics import LagSampler
from .outbox import OutboxRelay
from .rpc import RpcServer
from .status import StatusResponder

log = logging.getLogger(__name__)


class Runnable(Protocol):
    async def run(self) -> None: ...
    async def shutdown(self) -> None: ...


class ServiceRuntime:
    """Owns a service's Postgres pool and NATS connection and runs its long-lived parts."""

    def __init__(self, name: str, settings: Settings, *, migrations: Sequence[str] = (), relay: bool = True) -> None:
        self.name = name
        self.settings = settings
        self.migrations = migrations
        self.relay_enabled = relay
        self.handlers = Handlers(name)  # its bus methods: rt.handlers.handle(CONTRACT.method, handler)
        self.runnables: list[Runnable] = []
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.pool: asyncpg.Pool | None = None
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self._rpc: RpcServer | None = None
        self._status: StatusResponder | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._closing = False
        self._started = False

    async def start(self) -> None:
        s = self.settings
        self.pool = await db.create_pool(s.database_url, password=s.database_password)
        await db.migrate(self.pool, "eventlog", eventlog.MIGRATIONS)
        await db.migrate(self.pool, "consumers", deadletters.MIGRATIONS)  # any bus consumer's failures
        if self.migrations:
            await db.migrate(self.pool, self.name, self.migrations)
        self.nc = await bus.connect(s.nats_url, f"arkive-{self.name}", user=s.nats_user, password=s.nats_password)
        self.js = self.nc.jetstream()
        await bus.ensure_stream(self.js, s.stream_name, s.subject_prefix, s.stream_replicas)
        for hook in self.on_start:
            await hook()
        if self.relay_enabled:
            self.runnables.append(OutboxRelay(self.pool, self.js, s.subject_prefix))
        self.runnables.append(LagSampler(self.pool))  # outbox lag and dead letters on /metrics
        self._rpc = RpcServer(self.nc, s.subject_prefix, self.handlers)
        await self._rpc.start()
        consumers = [r.name for r in self.runnables if isinstance(r, EventConsumer)]
        self._status = StatusResponder(self.nc, s.subject_prefix, self.name, self.ready, consumers)
        await self._status.start()  # `arkive status`
        for r in self.runnables:
            self._tasks.append(asyncio.create_task(r.run(), name=f"{self.name}:{type(r).__name__}"))
        self._started = True
        log.info("arkive-%s ready", self.name)

    async def ready(self) -> bool:
        """Readiness (/readyz): started, not shutting down, NATS connected and PostgreSQL answering."""
        if not self._started or self._closing or self.nc is None or not self.nc.is_connected or self.pool is None:
            return False
        async with self.pool.acquire(timeout=2) as conn:
            return await conn.fetchval("SELECT 1") == 1

    async def run(self) -> None:
        """Starts (if needed) and runs until shutdown() or until a part fails."""
        if self.pool is None:
            await self.start()
        waiter = asyncio.create_task(self._stopped.wait())
        done, _ = await asyncio.wait([*self._tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not waiter and not t.cancelled() and (error := t.exception()) is not None:
                await self.shutdown()
                raise error
        waiter.cancel()

    async def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._status is not None:
            await self._status.close()
        if self._rpc is not None:
            await self._rpc.shutdown()
        for r in self.runnables:
            with contextlib.suppress(Exception):
                await r.shutdown()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), 10)
        self._stopped.set()

    async def __aenter__(self) -> ServiceRuntime:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()


class Service(Protocol):
    async def run(self) -> None: ...
    async def shutdown(self) -> None: ...
    async def ready(self) -> bool: ...


async def _drain_then_stop(service: Service, health: HealthServer | None, drain_seconds: float) -> None:
    """Graceful termination: readiness turns false first, then (after the drain delay that lets load
    balancers and Kubernetes endpoints notice) the service stops taking work and finishes what it has."""
    if health is not None:
        if health.draining:
            return
        health.draining = True
        log.info("draining: not ready, stopping in %gs", drain_seconds)
        drain = getattr(service, "drain", None)  # the gateway: gRPC health says NOT_SERVING too
        if drain is not None:
            await drain()
        await asyncio.sleep(drain_seconds)
    await service.shutdown()


def run_service(name: str, bootstrap: Callable[[Settings], Awaitable[Service]]) -> None:
    """Process entry point: configure logging, bootstrap from the environment, run until a signal."""
    logs.configure(name)  # ARKIVE_LOG_FORMAT: json or text
    tracing.configure(name)  # OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set

    async def main() -> None:
        service = await bootstrap(Settings.from_env())
        hc = HealthConfig.from_env()
        health = None if hc.port is None else HealthServer(name, service.ready, host=hc.host, port=hc.port)
        if health is not None:
            await health.start()  # before run(): /livez answers during start-up, /readyz says 503
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(
                sig, lambda: asyncio.ensure_future(_drain_then_stop(service, health, hc.drain_seconds))
            )
        try:
            await service.run()
        finally:
            if health is not None:
                await health.stop()
            tracing.shutdown()  # flush buffered spans

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
