"""TLS to the gateway, from the environment: ARKIVE_TLS_CA (a PEM bundle to trust; it turns TLS on),
ARKIVE_TLS=on (TLS with the system's trusted roots), and ARKIVE_TLS_CLIENT_CERT / ARKIVE_TLS_CLIENT_KEY
for a gateway that requires client certificates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc
from arkive_core.errors import InvalidArgument, error_from

_ON = ("1", "true", "on", "yes")


def _read(var: str) -> bytes | None:
    path = os.environ.get(var, "").strip()
    if not path:
        return None
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"{var}: cannot read {path}: {exc.strerror}") from None


def channel_credentials() -> grpc.ChannelCredentials | None:
    """Credentials for a TLS channel, or None for plaintext (no TLS variable set)."""
    ca = _read("ARKIVE_TLS_CA")
    cert, key = _read("ARKIVE_TLS_CLIENT_CERT"), _read("ARKIVE_TLS_CLIENT_KEY")
    if (cert is None) != (key is None):
        raise InvalidArgument("a client certificate needs both ARKIVE_TLS_CLIENT_CERT and ARKIVE_TLS_CLIENT_KEY")
    if ca is None and cert is None and os.environ.get("ARKIVE_TLS", "").strip().lower() not in _ON:
        return None
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


TLS_PROBE_AFTER = 0.5  # seconds of not connecting before asking the channel why
# What grpc's "failed to connect" details say when the TLS handshake itself was refused.
_TLS_REFUSALS = ("handshake failed", "certificate_verify_failed", "certificate verify failed", "ssl_error")


async def refuse_tls_failure(channel: Any, address: str) -> None:
    """Raises a FailedPrecondition naming the TLS settings if the channel's connection attempts
    fail in the TLS handshake (wrong CA, plaintext server, name mismatch); returns otherwise."""
    probe = channel.unary_unary("/grpc.health.v1.Health/Check", lambda _: b"", lambda raw: raw)
    try:
        await probe(b"", timeout=2.0, wait_for_ready=False)
    except grpc.aio.AioRpcError as exc:
        details = exc.details() or ""
        if exc.code() == grpc.StatusCode.UNAVAILABLE and any(m in details.lower() for m in _TLS_REFUSALS):
            raise error_from(
                "FAILED_PRECONDITION",
                f"TLS handshake with the arkive gateway at {address} failed (does ARKIVE_TLS_CA hold the CA"
                f" that signed the gateway's certificate, and does the gateway serve TLS?): {details}",
            ) from None
