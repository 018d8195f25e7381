"""Composition root of the web dashboard: settings from the environment, the aiohttp application
(routes, security middleware), and WebService with run()/shutdown(). Nothing listens or connects
before run(); the gateway is reached lazily, per signed-in token (gateway.Clients)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass, field

from aiohttp import web

from . import routes_auth, routes_catalog, routes_compare, routes_edit, routes_runs, routes_search, routes_version
from .access import IDENTITIES, Identities
from .context import CLIENTS, gateway_errors
from .gateway import Clients
from .html import CSS
from .security import make_middleware

log = logging.getLogger(__name__)
DEFAULT_ADDR = "127.0.0.1:8080"


@dataclass(frozen=True)
class WebSettings:
    addr: str = DEFAULT_ADDR
    """host:port to listen on (ARKIVE_WEB_ADDR)."""
    gateway_addr: str = "127.0.0.1:50051"
    """The gateway the pages read from (ARKIVE_GATEWAY_ADDR)."""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Signs CSRF tokens (ARKIVE_WEB_SECRET; random per start when unset: forms open across a
    restart are then refused once and must be reloaded). Replicas behind one address need one secret."""

    @classmethod
    def from_env(cls) -> WebSettings:
        d = cls()
        secret = os.environ.get("ARKIVE_WEB_SECRET", "").encode()
        return cls(
            addr=os.environ.get("ARKIVE_WEB_ADDR") or d.addr,
            gateway_addr=os.environ.get("ARKIVE_GATEWAY_ADDR") or d.gateway_addr,
            secret=secret or d.secret,
        )


async def style(request: web.Request) -> web.StreamResponse:
    return web.Response(text=CSS, content_type="text/css", headers={"Cache-Control": "max-age=300"})


def make_app(settings: WebSettings) -> web.Application:
    app = web.Application(middlewares=[make_middleware(settings.secret), gateway_errors], client_max_size=64 * 1024)
    app[CLIENTS] = Clients(settings.gateway_addr)
    app[IDENTITIES] = Identities()
    app.router.add_get("/static/style.css", style)
    app.add_routes(routes_catalog.routes)
    app.add_routes(routes_version.routes)
    app.add_routes(routes_compare.routes)
    app.add_routes(routes_auth.routes)
    app.add_routes(routes_edit.routes)
    app.add_routes(routes_runs.routes)
    app.add_routes(routes_search.routes)

    async def close_clients(app: web.Application) -> None:
        await app[CLIENTS].close()

    app.on_cleanup.append(close_clients)
    return app


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class WebService:
    """Serves the dashboard on settings.addr until shutdown()."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self._stopped = asyncio.Event()
        self.port = 0  # the bound port once running (addr may ask for 0)

    async def start(self) -> None:
        host, port = split_addr(self.settings.addr)
        self._runner = web.AppRunner(make_app(self.settings), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_port=True)  # replicas share the port
        await site.start()
        server = getattr(site, "_server", None)
        self.port = server.sockets[0].getsockname()[1] if server and server.sockets else port
        log.info("arkive-web serving http://%s:%d/ (gateway %s)", host, self.port, self.settings.gateway_addr)

    async def run(self) -> None:
        if self._runner is None:
            await self.start()
        await self._stopped.wait()

    async def ready(self) -> bool:
        """For /readyz (ARKIVE_HEALTH_PORT): listening. The gateway is not checked: a page says when
        it cannot be reached, and a dashboard taken out of a load balancer would say nothing."""
        return self._runner is not None and self.port != 0

    async def shutdown(self) -> None:
        """Stops listening and closes the gateway clients; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._stopped.set()


async def bootstrap(_settings: object = None) -> WebService:
    return WebService(WebSettings.from_env())
