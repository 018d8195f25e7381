"""A deployment of its own on the session's servers: a fresh database, subject prefix, stream and
bucket, so its processes' outbox relays never publish the session stack's events (nor its consumers
take theirs). For tests that start service processes themselves (replicas, containers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from arkive_core.tokens import bootstrap_value, parse_token


@asynccontextmanager
async def isolated_env(infra) -> AsyncIterator[dict[str, str]]:
    """The environment for such processes (ARKIVE_* of `infra` with the private names)."""
    name = f"i_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra.database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    tag = name.replace("_", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | infra.env
    # The servers' credentials in the URLs (the admin NATS user: any subject prefix), not as paths
    # to secret files on this host, which a container would not see.
    for var in ("ARKIVE_NATS_USER", "ARKIVE_NATS_PASSWORD_FILE", "ARKIVE_DATABASE_PASSWORD_FILE"):
        env.pop(var, None)
    env |= {
        "ARKIVE_NATS_URL": infra.nats_url,
        "ARKIVE_DATABASE_URL": urlunsplit(urlsplit(infra.database_url)._replace(path=f"/{name}")),
        "ARKIVE_SUBJECT_PREFIX": tag,
        "ARKIVE_STREAM": tag.upper(),
        "ARKIVE_S3_BUCKET": tag,
        "PYTHONUNBUFFERED": "1",
        # the session's admin token (conftest) works here too: ingest registers it in the new database
        "ARKIVE_API_KEY": os.environ["ARKIVE_API_KEY"],
        "ARKIVE_BOOTSTRAP_TOKEN_HASH": bootstrap_value(parse_token(os.environ["ARKIVE_API_KEY"])),
    }
    try:
        yield env
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
