"""Service configuration, read from the environment once at start (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .plane_secrets import read_secret


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value else default


def _floats(name: str, value: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{name} must be comma-separated seconds, not {value!r}") from None
    if not out or any(v < 0 for v in out):
        raise ValueError(f"{name} must list at least one non-negative number of seconds, not {value!r}")
    return out


def _direct_mode(value: str) -> str:
    if value not in ("auto", "off"):
        raise ValueError(f"ARKIVE_DIRECT_TRANSFERS must be auto or off, not {value!r}")
    return value


def _auth_mode(value: str) -> str:
    if value not in ("on", "off"):
        raise ValueError(f"ARKIVE_AUTH must be on or off, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    """NATS server with JetStream (ARKIVE_NATS_URL)."""
    nats_user: str = ""
    """User name on NATS (ARKIVE_NATS_USER); `arkive up` gives each service its own, whose subject
    permissions allow only what that service does. Empty: none (or the one in the URL)."""
    nats_password: str = field(default="", repr=False)
    """Its password (ARKIVE_NATS_PASSWORD, or the content of the file ARKIVE_NATS_PASSWORD_FILE names)."""
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    """PostgreSQL holding the event log and the read models (ARKIVE_DATABASE_URL)."""
    database_password: str = field(default="", repr=False)
    """Password of the database user (ARKIVE_DATABASE_PASSWORD, or the content of the file
    ARKIVE_DATABASE_PASSWORD_FILE names); empty: the one in the URL, if any."""
    s3_endpoint: str = "http://127.0.0.1:8333"
    """S3-compatible endpoint for blobs (ARKIVE_S3_ENDPOINT)."""
    s3_access_key: str = "arkive"
    """S3 access key id (ARKIVE_S3_ACCESS_KEY)."""
    s3_secret_key: str = field(default="arkive-secret", repr=False)
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
    stream_replicas: int = 1
    """Replicas of the event stream when a service creates it: 1 for one NATS server, 3 for a
    JetStream cluster (ARKIVE_STREAM_REPLICAS). A stream that exists with other settings is left as it
    is and reported with one WARNING at start-up."""
    consumer_max_failures: int = 5
    """Deliveries of one event that may fail before a bus consumer parks it in its dead-letter table
    and moves on (ARKIVE_CONSUMER_MAX_FAILURES)."""
    consumer_backoff: tuple[float, ...] = (1.0, 5.0, 15.0, 30.0)
    """Seconds before the 1st, 2nd, ... redelivery of a failed event; the last value repeats
    (ARKIVE_CONSUMER_BACKOFF, comma-separated)."""
    consumer_wait_limit: float = 600.0
    """Seconds an event may wait for an earlier event it depends on (redelivered without counting as
    a failure) before it is parked as a dead letter (ARKIVE_CONSUMER_WAIT_LIMIT)."""
    reconcile_interval: float = 60.0
    """Seconds between two reconciler runs of each bus consumer, which re-drives from the log the
    events the bus lost; 0 turns the periodic run off (ARKIVE_RECONCILE_INTERVAL)."""
    reconcile_margin: float = 30.0
    """Only events recorded at least this many seconds ago are re-driven by the reconciler: younger
    ones may still be on their way over the bus (ARKIVE_RECONCILE_MARGIN)."""
    reference_allow: str = ""
    """Addresses HTTP references may reach although they are loopback, link-local, private or otherwise
    not public (refused by default against SSRF): comma-separated CIDRs ("10.0.0.0/8") allowed on any
    port, or host:port pairs ("127.0.0.1:8080", "[::1]:9000") (ARKIVE_REFERENCE_ALLOW)."""
    reference_s3_buckets: str = ""
    """Buckets s3:// references may read: comma-separated names or globs ("datasets", "team-*");
    empty: none. Never the blob bucket, whatever it says (ARKIVE_REFERENCE_S3_BUCKETS)."""
    reference_s3_endpoint: str = ""
    """S3 endpoint of s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_ENDPOINT)."""
    reference_s3_access_key: str = ""
    """Access key for s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_ACCESS_KEY)."""
    reference_s3_secret_key: str = field(default="", repr=False)
    """Secret key for s3:// references; empty: the blob store's (ARKIVE_REFERENCE_S3_SECRET_KEY)."""

    auth: str = "on"
    """Gateway: "on" requires an API token on every call but the health check; "off" serves anyone
    who reaches the port, an explicit operator choice that is logged loudly (ARKIVE_AUTH)."""
    bootstrap_token_hash: str = ""
    """Ingest: `<token id>:<sha256 of the secret>` of the launcher's admin token, registered as the
    global admin `admin` when no principal exists yet (ARKIVE_BOOTSTRAP_TOKEN_HASH)."""

    @classmethod
    def from_env(cls) -> Settings:
        d = cls()
        return cls(
            nats_url=_env("ARKIVE_NATS_URL", d.nats_url),
            database_url=_env("ARKIVE_DATABASE_URL", d.database_url),
            database_password=read_secret("ARKIVE_DATABASE_PASSWORD"),
            nats_user=_env("ARKIVE_NATS_USER", d.nats_user),
            nats_password=read_secret("ARKIVE_NATS_PASSWORD"),
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
            stream_replicas=int(_env("ARKIVE_STREAM_REPLICAS", str(d.stream_replicas))),
            consumer_max_failures=int(_env("ARKIVE_CONSUMER_MAX_FAILURES", str(d.consumer_max_failures))),
            consumer_backoff=_floats(
                "ARKIVE_CONSUMER_BACKOFF", _env("ARKIVE_CONSUMER_BACKOFF", ",".join(map(str, d.consumer_backoff)))
            ),
            consumer_wait_limit=float(_env("ARKIVE_CONSUMER_WAIT_LIMIT", str(d.consumer_wait_limit))),
            reconcile_interval=float(_env("ARKIVE_RECONCILE_INTERVAL", str(d.reconcile_interval))),
            reconcile_margin=float(_env("ARKIVE_RECONCILE_MARGIN", str(d.reconcile_margin))),
            reference_allow=_env("ARKIVE_REFERENCE_ALLOW", d.reference_allow),
            reference_s3_buckets=_env("ARKIVE_REFERENCE_S3_BUCKETS", d.reference_s3_buckets),
            reference_s3_endpoint=_env("ARKIVE_REFERENCE_S3_ENDPOINT", d.reference_s3_endpoint),
            reference_s3_access_key=_env("ARKIVE_REFERENCE_S3_ACCESS_KEY", d.reference_s3_access_key),
            reference_s3_secret_key=_env("ARKIVE_REFERENCE_S3_SECRET_KEY", d.reference_s3_secret_key),
            auth=_auth_mode(_env("ARKIVE_AUTH", d.auth)),
            bootstrap_token_hash=_env("ARKIVE_BOOTSTRAP_TOKEN_HASH", d.bootstrap_token_hash),
        )
