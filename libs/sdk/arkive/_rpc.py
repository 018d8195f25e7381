"""gRPC plumbing: the channel, and turning gRPC failures into arkive errors."""

from __future__ import annotations

import os

import grpc

from arkive_common.errors import ArkiveError, Code, error_from

DEFAULT_GATEWAY = "127.0.0.1:50051"
DEFAULT_PROJECT = "default"
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


def default_address() -> str:
    return os.environ.get("ARKIVE_GATEWAY_ADDR") or DEFAULT_GATEWAY


def default_project() -> str:
    return os.environ.get("ARKIVE_PROJECT") or DEFAULT_PROJECT


def open_channel(address: str) -> grpc.aio.Channel:
    """An insecure channel to the gateway (connects lazily, on the first call)."""
    options = [
        # Servers may pick larger download chunks than grpc's 4 MiB default allows.
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Long uploads go quiet between messages when the disk is slow; keepalives keep NATs open.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 0),
    ]
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
