"""The whole local stack: NATS, PostgreSQL, SeaweedFS, then N replicas of each arkive service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from . import admin_token, dashboard, datadir, embedded, postgres, s3identity, servers
from .config import StackConfig
from .errors import StackError
from .plane import Plane
from .ports import HOST, choose_port, free_port, split_addr
from .probes import check_external, grpc_serving, wait_until
from .processes import ManagedProcess
from .signals import stop_on_signals
from .status import all_listening, status_lines
from .supervisor import Supervisor

_logger = logging.getLogger("arkive_stack")


class Stack:
    """Starts, supervises and stops one stack. Use `async with Stack(cfg) as s:` or start()/stop().

    `service_commands` maps a service name to the argv that replaces `python -m arkive_<name>`
    (tests use it for fake services). `log` receives one-line progress messages.
    """

    def __init__(
        self,
        config: StackConfig,
        *,
        service_commands: Mapping[str, Sequence[str]] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._commands = {k: list(v) for k, v in (service_commands or {}).items()}
        self._log = log or _logger.info
        self.notes: list[str] = []
        """Port fall-backs and similar remarks made during start()."""
        self.servers: dict[str, ManagedProcess] = {}
        """Embedded servers started by this stack: "nats", "postgres", "seaweedfs" (external ones absent)."""
        self.services: list[ManagedProcess] = []
        """Service processes, named after the service ("gateway") or, with replicas > 1, "gateway-2"."""
        self.health_ports: dict[str, int] = {}
        """Per service process: the port of its /livez, /readyz and /metrics (ARKIVE_HEALTH_PORT)."""
        self.started_in: float | None = None
        """Seconds start() took."""
        self._ports: dict[str, int] = {}
        self._weed_ports: dict[str, int] = {}
        self._env: dict[str, str] = {}
        self._state = "new"
        self._stop_requested = asyncio.Event()
        self._start_task: asyncio.Task[object] | None = None
        self._stop_task: asyncio.Task[None] | None = None
        self._lock_file: int | None = None
        self._s3_identity: Path | None = None
        self._plane = Plane()
        self._supervisor: Supervisor | None = None

    @property
    def env(self) -> dict[str, str]:
        """The ARKIVE_* variables the services get and clients should use."""
        if not self._env:
            raise StackError("the stack has not been started")
        return dict(self._env)

    @property
    def nats_url(self) -> str:
        """For clients in this process (tests): with the admin user's password in it, so never
        log it. `env["ARKIVE_NATS_URL"]` is the same without credentials."""
        return self._plane.admin_nats_url(self.env["ARKIVE_NATS_URL"])

    @property
    def database_url(self) -> str:
        """For clients in this process: with the password in it (see nats_url)."""
        return self._plane.database_url(self.env["ARKIVE_DATABASE_URL"])

    @property
    def s3_endpoint(self) -> str:
        return self.env["ARKIVE_S3_ENDPOINT"]

    @property
    def gateway_addr(self) -> str:
        return self.env["ARKIVE_GATEWAY_ADDR"]

    @property
    def processes(self) -> list[ManagedProcess]:
        """Every process this stack started, services first (the stop order)."""
        return [*self.services, *self.servers.values()]

    def server_settings(self) -> dict[str, object]:
        """StackConfig overrides that make another stack use this one's servers (URLs, credentials)."""
        env = self.env
        return {
            "nats_url": env["ARKIVE_NATS_URL"],
            "database_url": env["ARKIVE_DATABASE_URL"],
            "s3_endpoint": env["ARKIVE_S3_ENDPOINT"],
            "s3_access_key": env["ARKIVE_S3_ACCESS_KEY"],
            "s3_secret_key": env["ARKIVE_S3_SECRET_KEY"],
            "nats_credentials": self._plane.nats_dir,
            "database_password_file": self._plane.database_password_file,
        }

    def status_lines(self) -> list[str]:
        """One line per process: name, pid, state, endpoint, log file."""
        return status_lines(self)

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start everything and wait until it is ready; on any failure (or cancellation) stop what
        was started and re-raise. A Stack starts once."""
        if self._state != "new":
            raise StackError(f"a Stack starts once (state: {self._state})")
        self._state = "starting"
        self._start_task = asyncio.current_task()
        started = time.monotonic()
        try:
            self._lock_file = datadir.lock(self.config.data_dir)
            self._plan()
            await self._start_servers()
            await self._start_services()
        except BaseException:
            self._start_task = None  # a signal during the clean-up must not cancel the clean-up
            await self.stop()
            raise
        self._start_task = None
        self._state = "running"
        self.started_in = time.monotonic() - started

    def _plan(self) -> None:
        """Choose ports and URLs and build the environment, before anything is spawned."""
        cfg, taken = self.config, set[int]()

        def port(requested: int, label: str) -> int:
            return choose_port(requested, label, strict=cfg.strict_ports, taken=taken, notes=self.notes)

        if cfg.nats_url is None:
            self._ports["nats"] = port(cfg.nats_port, "nats")
        if cfg.database_url is None:
            self._ports["postgres"] = port(cfg.postgres_port, "postgres")
        access, secret = cfg.s3_access_key or "arkive", cfg.s3_secret_key or "arkive-secret"
        if cfg.s3_endpoint is None:
            self._ports["s3"] = port(cfg.s3_port, "s3")
            weed = cfg.data_dir / "seaweedfs"
            self._weed_ports = servers.weed_ports(weed, taken)
            self._s3_identity, access, secret = s3identity.ensure(weed, cfg.s3_access_key, cfg.s3_secret_key)
        self._plane = Plane.plan(cfg, "nats" in self._ports, "postgres" in self._ports)
        host, gw_port = split_addr(cfg.gateway_addr)
        if "gateway" in cfg.services:
            gw_port = port(gw_port, "gateway")
        p = self._ports
        self._env = {
            "ARKIVE_NATS_URL": cfg.nats_url or f"nats://{HOST}:{p['nats']}",
            "ARKIVE_DATABASE_URL": cfg.database_url or postgres.url(p["postgres"]),
            "ARKIVE_S3_ENDPOINT": cfg.s3_endpoint or f"http://{HOST}:{p['s3']}",
            "ARKIVE_S3_ACCESS_KEY": access,
            "ARKIVE_S3_SECRET_KEY": secret,
            "ARKIVE_S3_BUCKET": cfg.s3_bucket,
            "ARKIVE_S3_REGION": cfg.s3_region,
            "ARKIVE_GATEWAY_ADDR": f"{host}:{gw_port}",
            "ARKIVE_WEB_ADDR": dashboard.plan_addr(cfg, port),
            "ARKIVE_API_KEY": cfg.api_key or admin_token.load_or_create(cfg.data_dir)[0],
            **self._plane.client_env(),
        }
        for note in self.notes:
            self._log(note)

    async def _start_servers(self) -> None:
        cfg = self.config
        await check_external(cfg)  # first: a wrong external URL must not cost a SeaweedFS start+stop
        await embedded.spawn(cfg, self._ports, self._weed_ports, self._s3_identity, self._plane, self._spawn_server)
        watch = list(self.servers.values())
        for name, (what, probe, interval) in embedded.probes(cfg, self._ports, self._weed_ports).items():
            if name in self.servers:
                blame = self.servers[name]
                took = await wait_until(
                    probe, what=what, timeout=cfg.ready_timeout, watch=watch, blame=blame, interval=interval
                )
                self._log(f"{what} ready ({took:.1f} s)")

    def _spawn_server(self, proc: ManagedProcess) -> None:
        self.servers[proc.name] = proc
        proc.start()

    async def _start_services(self) -> None:
        cfg = self.config
        # unbuffered: a crashed service's last words must be in its log for the error message
        env = dashboard.with_secret({**os.environ, "PYTHONUNBUFFERED": "1", **self._env})
        # the services get the bootstrap admin token's hash only, never the token
        env["ARKIVE_BOOTSTRAP_TOKEN_HASH"] = admin_token.bootstrap_hash(env.pop("ARKIVE_API_KEY"))
        for name in dashboard.startable(cfg.services, self._commands, self._log):
            argv = self._commands.get(name) or [sys.executable, "-m", f"arkive_{name}"]
            for i in range(1, cfg.replicas + 1):
                pname = name if cfg.replicas == 1 else f"{name}-{i}"
                # each replica its own health port: a fixed one would clash on one host
                self.health_ports[pname] = free_port({*self._ports.values(), *self.health_ports.values()})
                penv = {**self._plane.service_env(env, name), "ARKIVE_HEALTH_PORT": str(self.health_ports[pname])}
                proc = ManagedProcess(
                    pname, argv, cfg.logs / f"{pname}.log", env=penv, stop_timeout=cfg.service_stop_timeout
                )
                self.services.append(proc)
                proc.start()
        if not self.services:
            return
        gateways = [p for p in self.services if p.name.split("-")[0] == "gateway"]
        if gateways:
            addr = self.gateway_addr
            what = f"gateway health check at {addr}"
            took = await wait_until(
                lambda: grpc_serving(addr),
                what=what,
                timeout=cfg.ready_timeout,
                watch=self.services,
                blame=gateways[0],
            )
            if len(gateways) > 1:
                # SO_REUSEPORT: one SERVING answer proves one replica; wait until each one listens.
                port, what = split_addr(addr)[1], f"all gateway replicas on {addr}"
                took += await wait_until(
                    lambda: all_listening(gateways, port),
                    what=what,
                    timeout=cfg.ready_timeout,
                    watch=self.services,
                    blame=gateways[-1],
                )
            self._log(f"gateway serving at {addr} ({took:.1f} s)")
        self._log(f"{len(self.services)} service processes running")

    async def stop(self) -> None:
        """Stop services (in parallel), then SeaweedFS, nats-server, PostgreSQL, each with a SIGKILL
        bound. Idempotent; concurrent callers wait for the same stop."""
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self._stop())
        # shield: a second cancellation of the caller must not abandon half-stopped processes
        await asyncio.shield(self._stop_task)

    async def _stop(self) -> None:
        self._state = "stopping"
        self._stop_requested.set()
        started = time.monotonic()
        if self._supervisor is not None:
            await self._supervisor.cancel()  # no respawn behind stop()'s back
        await asyncio.gather(*(p.stop() for p in self.services), return_exceptions=True)
        for name in ("seaweedfs", "nats", "postgres"):
            if name in self.servers:
                await self.servers[name].stop()
        if "seaweedfs" in self.servers:
            servers.remove_weed_sockets(self._weed_ports)
        if self._lock_file is not None:
            datadir.unlock(self._lock_file)
            self._lock_file = None
        self._state = "stopped"
        if self.processes:
            self._log(f"stopped {len(self.processes)} processes in {time.monotonic() - started:.1f} s")

    def request_stop(self) -> None:
        """Ask run() to return (or interrupt a start() in progress); safe from signal handlers."""
        self._stop_requested.set()
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()

    def kill_all(self) -> None:
        """SIGKILL every process group at once (a second Ctrl-C); stop() then returns quickly."""
        for p in self.processes:
            p.kill_now()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Block until SIGINT/SIGTERM/SIGHUP or request_stop() (then stop and return), supervising:
        a process that exits on its own is restarted (supervisor.py: backoff, then respawn; the
        others keep running). A crash loop (more than `restart_limit` restarts of one process within
        `restart_window` s; with restart_limit 0 any exit) stops everything and raises
        ProcessDiedError with the log tail of the last run."""
        if self._state != "running":
            raise StackError(f"run() needs a started stack (state: {self._state})")
        supervisor = self._supervisor = Supervisor(
            self.config, lambda: self.processes, self._log, before_restart=self._before_restart
        )
        with self.signal_handlers() if handle_signals else contextlib.nullcontext():
            try:
                while supervisor.gave_up is None and not self._stop_requested.is_set():
                    supervisor.check()
                    if supervisor.gave_up is None:
                        await asyncio.sleep(0.1)
            finally:
                await self.stop()
        dead = supervisor.gave_up
        if dead is not None:
            self._log(f"{dead.name} exited with code {dead.returncode} {dead.when}; stopped everything")
            raise dead

    def _before_restart(self, proc: ManagedProcess) -> None:
        if proc.name == "seaweedfs":
            # a killed weed leaves its gRPC sockets in /tmp; the new one would fail to listen there
            servers.remove_weed_sockets(self._weed_ports)

    def signal_handlers(self) -> contextlib.AbstractContextManager[None]:
        """While active: the first SIGINT/SIGTERM/SIGHUP calls request_stop() (which also interrupts
        a start() in progress), a second one kill_all(). A no-op outside the main thread."""
        return stop_on_signals(self.request_stop, self.kill_all, self._log)
