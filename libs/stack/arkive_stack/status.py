"""Human-readable status of a stack's processes (printed by `arkive up`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from arkive_common.plane_secrets import redact

from .ports import HOST
from .processes import ManagedProcess

if TYPE_CHECKING:
    from .stack import Stack


def all_listening(procs: Sequence[ManagedProcess], port: int) -> bool:
    """True when every process in `procs` has a listening TCP socket on `port`."""
    import psutil  # lazy: psutil reads /proc at import time

    for p in procs:
        if p.pid is None:
            return False
        try:
            conns = psutil.Process(p.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        if not any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return False
    return True


def _endpoint(stack: Stack, name: str) -> str:
    env = stack.env
    base = name.split("-")[0]
    return {
        "nats": redact(env["ARKIVE_NATS_URL"]),  # an external URL may carry a password
        "postgres": redact(env["ARKIVE_DATABASE_URL"]),
        "seaweedfs": env["ARKIVE_S3_ENDPOINT"],
        "gateway": env["ARKIVE_GATEWAY_ADDR"],
        "web": f"http://{env['ARKIVE_WEB_ADDR']}/",
    }.get(base, "") or (f"http://{HOST}:{stack.health_ports[name]}/metrics" if name in stack.health_ports else "")


def status_lines(stack: Stack) -> list[str]:
    """`name  pid  state  endpoint  log` for every process, servers first."""
    lines = []
    for p in [*stack.servers.values(), *stack.services]:
        rc = p.returncode
        state = "running" if p.pid is not None and rc is None else f"exited {rc}"
        endpoint = ""
        with contextlib.suppress(Exception):
            endpoint = _endpoint(stack, p.name)
        lines.append(f"{p.name:<12} pid {p.pid or '-':<8} {state:<10} {endpoint:<47} {p.log_path}")
    return lines
