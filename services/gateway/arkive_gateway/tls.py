"""TLS for the gateway's gRPC port (ARKIVE_TLS_CERT / ARKIVE_TLS_KEY, optionally ARKIVE_TLS_CLIENT_CA).

With a certificate and key the gateway listens with TLS only: there is no plaintext listener to
fall back to. The files are read again when they change (a rotated certificate is served from the
next connection on, no restart): gRPC asks the fetcher below at each new handshake, and it re-reads
the files only when their modification time or size moved. With ARKIVE_TLS_CLIENT_CA the gateway
also requires a client certificate signed by that CA (mutual TLS).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import grpc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    client_ca: Path | None = None

    @classmethod
    def from_env(cls) -> TlsFiles | None:
        cert, key = os.environ.get("ARKIVE_TLS_CERT", "").strip(), os.environ.get("ARKIVE_TLS_KEY", "").strip()
        client_ca = os.environ.get("ARKIVE_TLS_CLIENT_CA", "").strip()
        if not cert and not key:
            if client_ca:
                raise ValueError("ARKIVE_TLS_CLIENT_CA needs ARKIVE_TLS_CERT and ARKIVE_TLS_KEY")
            return None
        if not cert or not key:
            raise ValueError("TLS needs both ARKIVE_TLS_CERT and ARKIVE_TLS_KEY")
        return cls(Path(cert), Path(key), Path(client_ca) if client_ca else None)

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        paths = [self.cert, self.key, *([self.client_ca] if self.client_ca else [])]
        return tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths)

    def _config(self) -> grpc.ServerCertificateConfiguration:
        # Read errors name the file, never its content (a key must not reach a log line).
        pair = (self.key.read_bytes(), self.cert.read_bytes())
        roots = self.client_ca.read_bytes() if self.client_ca else None
        return grpc.ssl_server_certificate_configuration([pair], root_certificates=roots)

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials that pick up changed files at the next handshake."""
        state = {"stamp": self._stamp()}
        initial = self._config()

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            try:
                stamp = self._stamp()
                if stamp == state["stamp"]:
                    return None  # unchanged: gRPC keeps what it has
                config = self._config()
            except (OSError, ValueError) as exc:  # half-written files during a rotation: keep the old pair
                log.warning("TLS files could not be read again (%s); keeping the current certificate", exc)
                return None
            state["stamp"] = stamp
            log.info("TLS certificate files changed: serving the new certificate from now on")
            return config

        return grpc.dynamic_ssl_server_credentials(
            initial, fetch, require_client_authentication=self.client_ca is not None
        )
