"""TLS to the gateway, from the environment: ARKIVE_TLS_CA (a PEM bundle to trust; it turns TLS on),
ARKIVE_TLS=on (TLS with the system's trusted roots), and ARKIVE_TLS_CLIENT_CERT / ARKIVE_TLS_CLIENT_KEY
for a gateway that requires client certificates."""

from __future__ import annotations

import os
from pathlib import Path

import grpc

from arkive_common.errors import InvalidArgument

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
