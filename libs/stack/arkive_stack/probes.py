"""Readiness probes (dependency-free except gRPC) and the wait loop that turns them into errors."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from arkive_common.plane_secrets import redact

from .config import StackConfig
from .errors import ProcessDiedError, StackError, StartTimeoutError
from .processes import ManagedProcess


async def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a TCP connection to host:port succeeds."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def nats_ready(host: str, port: int) -> bool:
    """nats-server greets every client with an INFO line once it accepts clients (JetStream is
    enabled, and its streams restored, before the client listener opens)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (TimeoutError, OSError):
        return False
    try:
        line = await asyncio.wait_for(reader.readline(), 1.0)
        return line.startswith(b"INFO ")
    except (TimeoutError, OSError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def http_get(host: str, port: int, path: str = "/", timeout: float = 2.0) -> tuple[int, bytes] | None:
    """(status, body) of a plain HTTP/1.0 GET, or None if nothing answers. No proxy is consulted."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return None
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    except (TimeoutError, OSError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1]), body


def _tls_files() -> tuple[bytes, bytes | None, bytes | None] | None:
    """What the health probe needs when the gateway serves TLS (ARKIVE_TLS_CERT set): the roots to
    trust (ARKIVE_TLS_CA, else the certificate file itself: self-signed, or with its CA appended),
    and the client key and certificate when the gateway requires one."""
    cert = os.environ.get("ARKIVE_TLS_CERT", "").strip()
    if not cert:
        return None
    ca = os.environ.get("ARKIVE_TLS_CA", "").strip()
    key, mine = os.environ.get("ARKIVE_TLS_CLIENT_KEY"), os.environ.get("ARKIVE_TLS_CLIENT_CERT")
    if key and mine:
        return Path(ca or cert).read_bytes(), Path(key).read_bytes(), Path(mine).read_bytes()
    return Path(ca or cert).read_bytes(), None, None


async def grpc_serving(addr: str, timeout: float = 2.0) -> bool:
    """True if the standard health service at `addr` reports SERVING for service ""."""
    import grpc  # lazy: importing grpc is slow and `arkive up` without services does not need it
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # http_proxy must not capture a loopback dial.
    options = [("grpc.enable_http_proxy", 0)]
    tls = await asyncio.to_thread(_tls_files)
    if tls is not None:  # a gateway given ARKIVE_TLS_CERT serves TLS only
        roots, key, cert = tls
        credentials = grpc.ssl_channel_credentials(root_certificates=roots, private_key=key, certificate_chain=cert)
        channel = grpc.aio.secure_channel(addr, credentials, options=options)
    else:
        channel = grpc.aio.insecure_channel(addr, options=options)
    async with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def url_host_port(url: str, default_port: int) -> tuple[str, int] | None:
    """host and port of a nats://, postgresql:// or http:// URL; None for unix-socket URLs."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or default_port


def check_dead(procs: Sequence[ManagedProcess], when: str) -> None:
    """Raise ProcessDiedError for the first process in `procs` that has exited."""
    for p in procs:
        rc = p.returncode
        if rc is not None:
            raise ProcessDiedError(p.name, rc, p.log_path, p.log_tail(), when)


async def wait_until(
    probe: Callable[[], Awaitable[bool] | bool],
    *,
    what: str,
    timeout: float,
    watch: Sequence[ManagedProcess],
    blame: ManagedProcess | None = None,
    interval: float = 0.1,
) -> float:
    """Poll `probe` (sync or async) until it returns True; returns the seconds it took. Fails early with
    ProcessDiedError if any process in `watch` exits, or with StartTimeoutError (carrying `blame`'s
    log tail) after `timeout` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        check_dead(watch, f"while waiting for {what}")
        ok = probe()
        if ok if isinstance(ok, bool) else await ok:
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            check_dead(watch, f"while waiting for {what}")
            raise StartTimeoutError(what, timeout, blame.log_path if blame else None, blame.log_tail() if blame else "")
        await asyncio.sleep(interval)


async def check_external(cfg: StackConfig, timeout: float = 5.0) -> None:
    """Fail early and clearly when a configured external server does not accept connections:
    a leftover `export ARKIVE_NATS_URL=...` from an earlier `arkive up` is the usual cause."""
    for var, url, default_port in (
        ("ARKIVE_NATS_URL", cfg.nats_url, 4222),
        ("ARKIVE_DATABASE_URL", cfg.database_url, 5432),
        ("ARKIVE_S3_ENDPOINT", cfg.s3_endpoint, 80),
    ):
        target = url_host_port(url, default_port) if url else None
        if url is None or target is None:
            continue
        host, port = target
        try:
            await wait_until(functools.partial(tcp_open, host, port), what=var, timeout=timeout, watch=())
        except StartTimeoutError:
            raise StackError(
                f"{var}={redact(url)} is set, so no embedded server is started for it, but nothing accepts "
                f"connections at {host}:{port}; start that server or unset {var}"
            ) from None
