"""gRPC plumbing: the channel, turning gRPC failures into arkive errors, and the retry policy of
idempotent calls."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import grpc

from arkive_common.errors import ArkiveError, Code, error_from

from ._tls import channel_credentials

DEFAULT_GATEWAY = "127.0.0.1:50051"
DEFAULT_PROJECT = "default"
MAX_MESSAGE_BYTES = 32 * 1024 * 1024

# Idempotent calls only (blob uploads, UpsertFiles, FinishDistributed, read-only queries): sending
# them again after an unknown outcome changes nothing. UNAVAILABLE is a gateway restarting or a
# dropped connection, DEADLINE_EXCEEDED a lost answer (e.g. a service replica died mid-request),
# ABORTED the server's own "too much contention, retry the command".
RETRY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED})
RETRY_ATTEMPTS = 5
RETRY_BASE_DELAY = 0.2  # seconds; doubled per attempt (0.2, 0.4, 0.8, 1.6), jittered, capped below
RETRY_MAX_DELAY = 5.0
IDEMPOTENT_CALL_TIMEOUT = 60.0  # per attempt: long enough for a big finish, short enough to retry


def retry_delay(attempt: int) -> float:
    """Pause before retry number `attempt + 1`: exponential, bounded, with jitter so that many
    workers failing together do not come back in lockstep."""
    return min(RETRY_BASE_DELAY * 2**attempt, RETRY_MAX_DELAY) * random.uniform(0.5, 1.0)


def should_retry(exc: grpc.aio.AioRpcError, attempt: int, attempts: int = RETRY_ATTEMPTS) -> bool:
    return exc.code() in RETRY_CODES and attempt + 1 < attempts


def default_address() -> str:
    return os.environ.get("ARKIVE_GATEWAY_ADDR") or DEFAULT_GATEWAY


def default_project() -> str:
    return os.environ.get("ARKIVE_PROJECT") or DEFAULT_PROJECT


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel to the gateway (connects lazily, on the first call); TLS per the environment (_tls.py)."""
    options = [
        # Servers may pick larger download chunks than grpc's 4 MiB default allows.
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Long uploads go quiet between messages when the disk is slow; keepalives keep NATs open.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
    credentials = channel_credentials()  # TLS when ARKIVE_TLS_CA / ARKIVE_TLS say so
    if credentials is not None:
        return grpc.aio.secure_channel(address, credentials, options=options)
    return grpc.aio.insecure_channel(address, options=options)


def rpc_error(exc: grpc.aio.AioRpcError, address: str) -> ArkiveError:
    """The ArkiveError subclass for a failed call, with a message a user can act on."""
    code = exc.code()
    name = code.name if code is not None else "UNKNOWN"
    details = exc.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        hint = (
            f"cannot reach the arkive gateway at {address} "
            "(is `arkive up` running? set ARKIVE_GATEWAY_ADDR or --gateway)"
        )
        details = f"{hint}: {details}" if details else hint
    if name not in Code.__members__:
        # UNIMPLEMENTED, CANCELLED, UNKNOWN...: keep the gRPC name visible in the message.
        details = f"{name}: {details}"
    return error_from(name, details)


async def call_idempotent(
    method: Any, request: Any, address: str, timeout: float, attempts: int = RETRY_ATTEMPTS
) -> Any:
    """A unary call that is safe to repeat, retried with backoff on RETRY_CODES (`timeout` per attempt)."""
    for attempt in range(attempts):
        try:
            return await method(request, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            if not should_retry(exc, attempt, attempts):
                raise rpc_error(exc, address) from None
        await asyncio.sleep(retry_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


# A feature the server has off (FAILED_PRECONDITION) or predates (UNIMPLEMENTED).
NOT_OFFERED = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED)


async def call_if_offered(method: Any, request: Any, address: str, timeout: float) -> Any | None:
    """call_idempotent, but None when the server does not offer the call (NOT_OFFERED): the caller
    then does without it (direct transfers fall back to streaming through the gateway)."""
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return await method(request, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in NOT_OFFERED:
                return None
            if not should_retry(exc, attempt):
                raise rpc_error(exc, address) from None
        await asyncio.sleep(retry_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
