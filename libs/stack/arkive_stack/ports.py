"""Choosing TCP ports on 127.0.0.1.

Free ports are drawn at random from 20000-32767, below Linux's ephemeral range (32768-60999): a
port taken from the ephemeral range can be grabbed as the *source* port of some outgoing connection
between our check and the server's bind. The check-then-bind race remains; it shows up as a server
failing to start with "address in use" in its log, which the launcher reports.
"""

from __future__ import annotations

import errno
import random
import socket

HOST = "127.0.0.1"
_LOW, _HIGH = 20000, 32767


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on host:port.

    SO_REUSEADDR, as every server sets it, so connections of a just-stopped server lingering in
    TIME_WAIT do not count as busy. No SO_REUSEPORT, so a gRPC server holding the port (gRPC sets
    SO_REUSEPORT, and a second gRPC server would silently share the port) does count."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port(exclude: set[int], host: str = HOST) -> int:
    """A currently free port not in `exclude`; adds it to `exclude` so one stack never picks it twice."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randint(_LOW, _HIGH)
        if port not in exclude and port_is_free(port, host):
            exclude.add(port)
            return port
    raise RuntimeError(f"no free TCP port found on {host} in {_LOW}-{_HIGH}")


def choose_port(requested: int, label: str, *, strict: bool, taken: set[int], notes: list[str]) -> int:
    """`requested` if free; 0 means any free port. A busy port is an error when `strict`, otherwise it
    is replaced by a free one and a line is appended to `notes` (shown by `arkive up`)."""
    if requested == 0:
        return free_port(taken)
    if requested not in taken and port_is_free(requested):
        taken.add(requested)
        return requested
    if strict:
        raise OSError(errno.EADDRINUSE, f"{label} port {requested} on {HOST} is already in use")
    port = free_port(taken)
    notes.append(f"{label}: port {requested} is in use, using {port} instead")
    return port


def split_addr(addr: str) -> tuple[str, int]:
    """'host:port' -> (host, port); accepts '[::1]:50051'."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected host:port, got {addr!r}")
    return host.strip("[]") or HOST, int(port)
