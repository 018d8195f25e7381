"""What the launcher starts and where; built from defaults, the environment and `arkive up` flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICES: tuple[str, ...] = ("ingest", "hashing", "lineage", "retention", "gateway", "web")
"""Every arkive service, in start order; service NAME runs as `python -m arkive_NAME`."""


@dataclass(frozen=True)
class StackConfig:
    """Settings of one local stack. Ports: 0 picks a free port; a busy non-zero port is replaced by a
    free one (reported in `Stack.notes`) unless `strict_ports` is set."""

    data_dir: Path = Path(".arkive")
    """Root of all state (nats/, postgres/, seaweedfs/, logs/); a later start on it finds the data again."""
    log_dir: Path | None = None
    """Where each process writes <name>.log; None means data_dir/logs."""
    nats_port: int = 4222
    """Client port of the embedded nats-server."""
    postgres_port: int = 5432
    """TCP port of the embedded PostgreSQL (it listens on 127.0.0.1 only, no unix socket)."""
    s3_port: int = 8333
    """S3 port of the embedded SeaweedFS; its internal master/volume/filer/gRPC ports are always free
    ports, remembered in seaweedfs/ports.json and reused on the next start when still free."""
    gateway_addr: str = "127.0.0.1:50051"
    """host:port of the gateway. All gateway replicas bind this same port (gRPC sets SO_REUSEPORT on
    Linux by default) and the kernel spreads new connections over them."""
    web_addr: str = "127.0.0.1:8080"
    """host:port of the web dashboard (ARKIVE_WEB_ADDR); its replicas share the port (SO_REUSEPORT)."""
    strict_ports: bool = False
    """Fail instead of falling back to a free port when a requested port is busy."""
    replicas: int = 1
    """How many processes of each service to start."""
    services: tuple[str, ...] = SERVICES
    """Which services to start; () starts only the servers (and whatever is not external)."""
    nats_url: str | None = None
    """External NATS (ARKIVE_NATS_URL): when set, no nats-server is started."""
    database_url: str | None = None
    """External PostgreSQL (ARKIVE_DATABASE_URL): when set, no PostgreSQL is started."""
    s3_endpoint: str | None = None
    """External S3 endpoint (ARKIVE_S3_ENDPOINT): when set, no SeaweedFS is started."""
    nats_credentials: Path | None = None
    """With an external NATS: a directory of per-user password files as the embedded one keeps in
    secrets/nats (natsauth.py), whose users the services then connect as. None: the services get
    the ARKIVE_NATS_* of the environment."""
    database_password_file: Path | None = None
    """With an external PostgreSQL: the file holding its password (ARKIVE_DATABASE_PASSWORD_FILE)."""
    subject_prefix: str = "arkive"
    """ARKIVE_SUBJECT_PREFIX: the embedded NATS' permissions are written for it."""
    stream_name: str = "ARKIVE_EVENTS"
    """ARKIVE_STREAM: the event stream whose acks the services may publish."""
    s3_access_key: str | None = None
    """ARKIVE_S3_ACCESS_KEY given to the services. With the embedded SeaweedFS, None means the key
    pair kept in seaweedfs/s3-identity.json (generated on the first start); a given pair replaces
    it there. With an external S3 endpoint, None means "arkive"."""
    s3_secret_key: str | None = None
    """ARKIVE_S3_SECRET_KEY given to the services (see s3_access_key; external default "arkive-secret")."""
    s3_bucket: str = "arkive"
    """ARKIVE_S3_BUCKET; the services create it if missing."""
    s3_region: str = "us-east-1"
    """ARKIVE_S3_REGION."""
    api_key: str | None = None
    """The admin token the services bootstrap with (ARKIVE_API_KEY of `env`); None: the one kept in
    data_dir/admin-token, made on the first start (see admin_token.py)."""
    ready_timeout: float = 60.0
    """Seconds each start-up step (servers, then services) may take before start() fails."""
    service_stop_timeout: float = 10.0
    """Seconds a service gets after SIGTERM before SIGKILL."""
    server_stop_timeout: float = 10.0
    """Seconds nats-server and PostgreSQL get after their stop signal before SIGKILL."""
    weed_stop_timeout: float = 20.0
    """Seconds SeaweedFS gets after SIGTERM before SIGKILL. Its graceful stop takes ~16 s (the filer
    waits 15 s for its own idle metadata subscriptions). Volume and filer-journal writes are plain
    write()s, so a SIGKILL after the services stopped keeps acknowledged objects (tests/test_stack.py
    checks it); short values suit throw-away data."""

    restart_limit: int = 5
    """Restarts of one process allowed within `restart_window` s; one more exit in that window stops
    the stack (a crash loop). 0: never restart, any exit stops the stack."""
    restart_window: float = 60.0
    """Seconds over which restarts are counted (and after which the backoff starts over)."""
    restart_delay: float = 0.2
    """Backoff before the first restart; it doubles with each restart counted in the window ..."""
    restart_max_delay: float = 5.0
    """... up to this many seconds."""

    @property
    def logs(self) -> Path:
        """The effective log directory."""
        return self.log_dir if self.log_dir is not None else self.data_dir / "logs"

    def replace(self, **changes: Any) -> StackConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> StackConfig:
        """Defaults, then ARKIVE_* variables (ARKIVE_DATA_DIR, ARKIVE_REPLICAS, ARKIVE_GATEWAY_ADDR,
        the three external server URLs and the S3 settings), then `overrides`."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        values: dict[str, Any] = {}
        for var, field, conv in (
            ("ARKIVE_DATA_DIR", "data_dir", Path),
            ("ARKIVE_REPLICAS", "replicas", int),
            ("ARKIVE_GATEWAY_ADDR", "gateway_addr", str),
            ("ARKIVE_WEB_ADDR", "web_addr", str),
            ("ARKIVE_NATS_URL", "nats_url", str),
            ("ARKIVE_DATABASE_URL", "database_url", str),
            ("ARKIVE_S3_ENDPOINT", "s3_endpoint", str),
            ("ARKIVE_S3_ACCESS_KEY", "s3_access_key", str),
            ("ARKIVE_S3_SECRET_KEY", "s3_secret_key", str),
            ("ARKIVE_S3_BUCKET", "s3_bucket", str),
            ("ARKIVE_S3_REGION", "s3_region", str),
            ("ARKIVE_DATABASE_PASSWORD_FILE", "database_password_file", Path),
            ("ARKIVE_SUBJECT_PREFIX", "subject_prefix", str),
            ("ARKIVE_STREAM", "stream_name", str),
        ):
            raw = get(var)
            if raw is not None:
                values[field] = conv(raw)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def for_tests(cls, data_dir: Path, **overrides: Any) -> StackConfig:
        """Free ports everywhere, strict ports, short SeaweedFS stop (the data is thrown away)."""
        values: dict[str, Any] = dict(
            data_dir=data_dir,
            nats_port=0,
            postgres_port=0,
            s3_port=0,
            gateway_addr="127.0.0.1:0",
            web_addr="127.0.0.1:0",
            strict_ports=True,
            weed_stop_timeout=3.0,
        )
        values.update(overrides)
        return cls(**values)

    def __post_init__(self) -> None:
        # Absolute from here on: the servers run with their working directory inside the data dir,
        # so a relative path (the default `.arkive`) would be read relative to that, not to the
        # directory `arkive up` was started from.
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().absolute())
        if self.log_dir is not None:
            object.__setattr__(self, "log_dir", Path(self.log_dir).expanduser().absolute())
        if self.restart_limit < 0 or self.restart_delay < 0 or self.restart_window <= 0:
            raise ValueError("restart_limit and restart_delay must be >= 0, restart_window > 0")
        if self.replicas < 1:
            raise ValueError("replicas must be >= 1")
        unknown = [s for s in self.services if s not in SERVICES]
        if unknown:
            raise ValueError(f"unknown services {unknown}; known: {', '.join(SERVICES)}")
