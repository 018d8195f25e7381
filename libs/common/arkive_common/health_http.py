"""Liveness, readiness and Prometheus metrics over plain HTTP, one small server per process.

`/livez` answers 200 while the event loop runs (a stuck loop cannot answer: that is the point).
`/readyz` answers 200 only while the service's `ready()` says its dependencies are connected and it
is not shutting down; a SIGTERM turns it 503 first (see `service.run_service`), so a load balancer
stops sending work before the process stops taking it. `/metrics` is the default Prometheus
registry in the text format.

A bare asyncio server instead of a web framework: three fixed paths, `Connection: close`, no body
to read, and no dependency beyond prometheus-client.

Settings (read here, not in `Settings`, because only the process entry point needs them):
- ARKIVE_HEALTH_PORT: unset or empty = no health server (local runs of several replicas on one host
  would clash on any fixed default); 0 = any free port (logged); N = that port (8081 in the image).
- ARKIVE_HEALTH_HOST: the address to bind, 127.0.0.1 unless set (the image sets 0.0.0.0).
- ARKIVE_DRAIN_SECONDS: how long readiness stays false after SIGTERM before the service stops
  taking work (0 locally; the Helm chart sets a few seconds so endpoints are removed first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

log = logging.getLogger(__name__)

SERVICE_UP = Gauge("arkive_service_up", "1 while the arkive service process runs", ["service"])
SERVICE_READY = Gauge("arkive_service_ready", "1 when the last readiness check passed", ["service"])

ReadyCheck = Callable[[], Awaitable[bool]]
_READ_LIMIT = 8192
_CHECK_TIMEOUT = 3.0  # a readiness check slower than this counts as not ready


@dataclass(frozen=True, slots=True)
class HealthConfig:
    port: int | None = None
    host: str = "127.0.0.1"
    drain_seconds: float = 0.0

    @classmethod
    def from_env(cls) -> HealthConfig:
        raw_port = os.environ.get("ARKIVE_HEALTH_PORT", "").strip()
        raw_drain = os.environ.get("ARKIVE_DRAIN_SECONDS", "").strip()
        try:
            port = int(raw_port) if raw_port else None
            drain = float(raw_drain) if raw_drain else 0.0
        except ValueError as exc:
            raise ValueError(f"ARKIVE_HEALTH_PORT / ARKIVE_DRAIN_SECONDS must be numbers: {exc}") from None
        if port is not None and not 0 <= port <= 65535:
            raise ValueError(f"ARKIVE_HEALTH_PORT must be 0-65535, not {port}")
        return cls(port=port, host=os.environ.get("ARKIVE_HEALTH_HOST", "").strip() or "127.0.0.1", drain_seconds=drain)


class HealthServer:
    """Serves /livez, /readyz and /metrics for one service; `draining` makes /readyz 503 for good."""

    def __init__(self, service: str, ready: ReadyCheck, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.service = service
        self._ready = ready
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self.draining = False
        self.port: int | None = None
        """The bound port once started (the chosen one when 0 was asked for)."""

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        SERVICE_UP.labels(self.service).set(1)
        log.info("arkive-%s health and metrics on http://%s:%d/", self.service, self._host, self.port)
        return self.port

    async def stop(self) -> None:
        SERVICE_UP.labels(self.service).set(0)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def is_ready(self) -> bool:
        ok = False
        if not self.draining:
            try:
                ok = bool(await asyncio.wait_for(self._ready(), _CHECK_TIMEOUT))
            except Exception as exc:  # a failing check means not ready, never a crashed endpoint
                log.debug("readiness check failed: %s", exc)
        SERVICE_READY.labels(self.service).set(1 if ok else 0)
        return ok

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            parts = head[:_READ_LIMIT].split(b"\r\n", 1)[0].split()
            method, path = (parts[0], parts[1].split(b"?", 1)[0]) if len(parts) >= 2 else (b"", b"")
            status, ctype, body = await self._respond(method, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            if method != b"HEAD":
                writer.write(body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(self, method: bytes, path: bytes) -> tuple[str, str, bytes]:
        text = "text/plain; charset=utf-8"
        if method not in (b"GET", b"HEAD"):
            return "405 Method Not Allowed", text, b"GET only\n"
        if path == b"/livez":
            return "200 OK", text, b"ok\n"
        if path == b"/readyz":
            if await self.is_ready():
                return "200 OK", text, b"ready\n"
            return "503 Service Unavailable", text, (b"draining\n" if self.draining else b"not ready\n")
        if path == b"/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        return "404 Not Found", text, b"try /livez, /readyz or /metrics\n"
