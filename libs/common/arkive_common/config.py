"""Service configuration, read from the environment once at start (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value else default


def _direct_mode(value: str) -> str:
    if value not in ("auto", "off"):
        raise ValueError(f"ARKIVE_DIRECT_TRANSFERS must be auto or off, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    """NATS server with JetStream (ARKIVE_NATS_URL)."""
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    """PostgreSQL holding the event log and the read models (ARKIVE_DATABASE_URL)."""
    s3_endpoint: str = "http://127.0.0.1:8333"
    """S3-compatible endpoint for blobs (ARKIVE_S3_ENDPOINT)."""
    s3_access_key: str = "arkive"
    """S3 access key id (ARKIVE_S3_ACCESS_KEY)."""
    s3_secret_key: str = "arkive-secret"
    """S3 secret key (ARKIVE_S3_SECRET_KEY)."""
    s3_bucket: str = "arkive"
    """Bucket holding every blob; created at start if missing (ARKIVE_S3_BUCKET)."""
    s3_region: str = "us-east-1"
    """S3 region name (ARKIVE_S3_REGION)."""
    s3_public_endpoint: str = ""
    """The S3 endpoint as clients reach it, for the presigned URLs of direct uploads; empty: the same
    as ARKIVE_S3_ENDPOINT (ARKIVE_S3_PUBLIC_ENDPOINT)."""
    direct_transfers: str = "auto"
    """"auto": large blobs go from clients straight to S3 with presigned PUTs once the gateway has
    seen the storage verify sha256 checksums (probed at start); "off": every byte passes the
    gateway (ARKIVE_DIRECT_TRANSFERS)."""
    gateway_addr: str = "127.0.0.1:50051"
    """host:port the gRPC gateway listens on and clients dial (ARKIVE_GATEWAY_ADDR)."""
    stream_name: str = "ARKIVE_EVENTS"
    """JetStream stream that carries every event (ARKIVE_STREAM)."""
    subject_prefix: str = "arkive"
    """Prefix of every NATS subject, so several deployments can share one NATS (ARKIVE_SUBJECT_PREFIX)."""
    reference_allow: str = ""
    """Addresses HTTP references may reach although they are loopback, link-local, private or otherwise
    not public (refused by default against SSRF): comma-separated CIDRs ("10.0.0.0/8") allowed on any
    port, or host:port pairs ("127.0.0.1:8080", "[::1]:9000") (ARKIVE_REFERENCE_ALLOW)."""
    reference_s3_endpoint: str = ""
    """S3 endpoint of s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_ENDPOINT)."""
    reference_s3_access_key: str = ""
    """Access key for s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_ACCESS_KEY)."""
    reference_s3_secret_key: str = ""
    """Secret key for s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_SECRET_KEY)."""

    @classmethod
    def from_env(cls) -> Settings:
        d = cls()
        return cls(
            nats_url=_env("ARKIVE_NATS_URL", d.nats_url),
            database_url=_env("ARKIVE_DATABASE_URL", d.database_url),
            s3_endpoint=_env("ARKIVE_S3_ENDPOINT", d.s3_endpoint),
            s3_access_key=_env("ARKIVE_S3_ACCESS_KEY", d.s3_access_key),
            s3_secret_key=_env("ARKIVE_S3_SECRET_KEY", d.s3_secret_key),
            s3_bucket=_env("ARKIVE_S3_BUCKET", d.s3_bucket),
            s3_region=_env("ARKIVE_S3_REGION", d.s3_region),
            s3_public_endpoint=_env("ARKIVE_S3_PUBLIC_ENDPOINT", d.s3_public_endpoint),
            direct_transfers=_direct_mode(_env("ARKIVE_DIRECT_TRANSFERS", d.direct_transfers)),
            gateway_addr=_env("ARKIVE_GATEWAY_ADDR", d.gateway_addr),
            stream_name=_env("ARKIVE_STREAM", d.stream_name),
            subject_prefix=_env("ARKIVE_SUBJECT_PREFIX", d.subject_prefix),
            reference_allow=_env("ARKIVE_REFERENCE_ALLOW", d.reference_allow),
            reference_s3_endpoint=_env("ARKIVE_REFERENCE_S3_ENDPOINT", d.reference_s3_endpoint),
            reference_s3_access_key=_env("ARKIVE_REFERENCE_S3_ACCESS_KEY", d.reference_s3_access_key),
            reference_s3_secret_key=_env("ARKIVE_REFERENCE_S3_SECRET_KEY", d.reference_s3_secret_key),
        )
