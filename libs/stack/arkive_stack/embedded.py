"""The embedded servers of one stack: spawning those it needs and telling when each is ready."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from . import postgres, servers
from .config import StackConfig
from .plane import Plane
from .ports import HOST
from .processes import ManagedProcess

Probe = tuple[str, Callable[[], Awaitable[bool]], float]
"""(what, probe, poll interval in seconds)"""


async def spawn(
    cfg: StackConfig,
    ports: dict[str, int],
    weed_ports: dict[str, int],
    s3_identity: Path | None,
    plane: Plane,
    start: Callable[[ManagedProcess], None],
) -> None:
    """Spawn the servers that have a port in `ports` ("s3", "nats", "postgres") through `start`,
    the slow one (SeaweedFS) first: all three start concurrently and are awaited in turn."""
    logs, data = cfg.logs, cfg.data_dir
    if "s3" in ports:
        assert s3_identity is not None  # planned along with the S3 port
        weed, weed_log = data / "seaweedfs", logs / "seaweedfs.log"
        start(servers.weed_process(weed, ports["s3"], weed_ports, s3_identity, weed_log, cfg.weed_stop_timeout))
    if "nats" in ports:
        nats_log, auth = logs / "nats.log", plane.nats_authorization
        start(servers.nats_process(data / "nats", ports["nats"], nats_log, cfg.server_stop_timeout, auth))
    if "postgres" in ports:
        pg_data, pg_log = data / "postgres", logs / "postgres.log"
        assert plane.database_marker is not None  # planned along with the port
        password, marker = plane.database_password, plane.database_marker
        uid, gid = await asyncio.to_thread(postgres.prepare, pg_data, pg_log, password, marker)
        start(postgres.process(pg_data, ports["postgres"], pg_log, uid, gid, cfg.server_stop_timeout))


def probes(cfg: StackConfig, ports: dict[str, int], weed_ports: dict[str, int]) -> dict[str, Probe]:
    """Readiness probe per server name. Each SeaweedFS probe writes a log line, hence its slower poll."""
    data = cfg.data_dir
    return {
        "nats": ("nats-server", lambda: servers.nats_ready(HOST, ports["nats"]), 0.05),
        "postgres": ("PostgreSQL", lambda: postgres.ready(data / "postgres", ports["postgres"]), 0.05),
        "seaweedfs": ("SeaweedFS S3", lambda: servers.weed_ready(ports["s3"], weed_ports["master"]), 0.25),
    }
