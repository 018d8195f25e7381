"""A deployment of its own for the bus-consumer tests: the five services in-process (in the test's
event loop) on the session's NATS, PostgreSQL and S3, but with their own database, stream and
subject prefix, and short delivery bounds, so poison messages and lost events stay in this test."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest_asyncio
from arkive_core.tokens import bootstrap_value, parse_token
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from arkive import AsyncClient
from arkive_common import bus, eventlog
from arkive_common.config import Settings
from arkive_common.consumer import EventConsumer
from arkive_common.events import Envelope, Event, VersionCommitted, encode_envelope, encode_event, event_type

from .refs_helpers import free_port

ARKIVE = Path(sys.executable).with_name("arkive")


@dataclass
class Deployment:
    settings: Settings
    pool: asyncpg.Pool
    nc: NATS
    js: JetStreamContext
    runtimes: dict[str, Any]

    @property
    def prefix(self) -> str:
        return self.settings.subject_prefix

    async def publish(self, subject_type: str, data: bytes) -> None:
        """Puts raw bytes on the events stream, as if the relay had published them."""
        await self.js.publish(f"{self.prefix}.events.collection.{subject_type}", data)

    async def publish_event(self, stream_id: str, event: Event, stream_version: int = 1) -> Envelope:
        env = envelope(stream_id, event, stream_version)
        await self.publish(env.type, encode_envelope(env))
        return env

    async def append_bypassing_bus(self, stream_id: str, event: Event) -> Envelope:
        """Appends to the log and drops the outbox row in the same transaction: the relay never
        publishes it, as if the bus had lost the message."""
        async with self.pool.acquire() as conn, conn.transaction():
            (env,) = await eventlog.append(conn, [eventlog.Append(stream_id, [event], None)])
            await conn.execute("DELETE FROM outbox WHERE position = $1", env.position)
        return env

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[AsyncClient]:
        async with AsyncClient(address=self.settings.gateway_addr, progress=False) as c:
            yield c

    @contextlib.contextmanager
    def wait_limit(self, seconds: float) -> Iterator[None]:
        """Lets events wait longer for earlier ones (ARKIVE_CONSUMER_WAIT_LIMIT) in lineage and retention."""
        consumers = [r for name in ("lineage", "retention") for r in self.runtimes[name].runnables if
                     isinstance(r, EventConsumer)]  # fmt: skip
        saved = [c.policy for c in consumers]
        for c in consumers:
            c.policy = dataclasses.replace(c.policy, wait_limit=seconds)
        try:
            yield
        finally:
            for c, policy in zip(consumers, saved, strict=True):
                c.policy = policy

    async def cli(self, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
        env["ARKIVE_GATEWAY_ADDR"] = self.settings.gateway_addr
        proc = await asyncio.create_subprocess_exec(
            str(ARKIVE), *argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode is not None
        return subprocess.CompletedProcess(argv, proc.returncode, out.decode(), err.decode())

    async def cli_json(self, *argv: str, code: int = 0) -> dict[str, Any]:
        p = await self.cli(*argv, "--json")
        assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout)


def envelope(stream_id: str, event: Event, stream_version: int = 1) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        stream_id=stream_id,
        stream_version=stream_version,
        type=event_type(event),
        schema_version=type(event).schema_version,
        data=encode_event(event),
        recorded_at=time.time(),
    )


def committed(project: str, name: str, version_id: str | None = None, number: int = 0) -> VersionCommitted:
    return VersionCommitted(
        version_id=version_id or f"v-{uuid.uuid4().hex}",
        project=project,
        name=name,
        type="dataset",
        version=number,
        manifest_digest="0" * 64,
        file_count=0,
        total_size=0,
        draft_id="d",
        created_at=time.time(),
    )


@contextlib.asynccontextmanager
async def own_database(admin_url: str) -> AsyncIterator[str]:
    name = f"dl_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def isolated(infra, admin_token: str) -> AsyncIterator[Deployment]:
    from arkive_gateway.server import bootstrap as gateway
    from arkive_hashing.bootstrap import bootstrap as hashing
    from arkive_ingest.bootstrap import bootstrap as ingest
    from arkive_lineage.bootstrap import bootstrap as lineage
    from arkive_retention.bootstrap import bootstrap as retention

    tag = uuid.uuid4().hex[:8]
    async with own_database(infra.database_url) as url:
        settings = Settings(
            nats_url=infra.nats_url,
            database_url=url,
            s3_endpoint=infra.s3_endpoint,
            s3_access_key=infra.env["ARKIVE_S3_ACCESS_KEY"],
            s3_secret_key=infra.env["ARKIVE_S3_SECRET_KEY"],
            s3_bucket=f"dl-{tag}",
            gateway_addr=f"127.0.0.1:{free_port()}",
            stream_name=f"DL_{tag.upper()}",
            subject_prefix=f"dl{tag}",
            consumer_max_failures=3,
            consumer_backoff=(0.1, 0.2),
            consumer_wait_limit=1.5,
            reconcile_interval=0,  # the tests run the reconciler themselves
            reconcile_margin=0.3,
            bootstrap_token_hash=bootstrap_value(parse_token(admin_token)),  # the session's admin works here too
        )
        runtimes: dict[str, Any] = {}
        tasks: list[asyncio.Task[None]] = []
        try:
            for name, boot in (("ingest", ingest), ("hashing", hashing), ("lineage", lineage),
                               ("retention", retention), ("gateway", gateway)):  # fmt: skip
                rt = runtimes[name] = await boot(settings)
                await rt.start()
                tasks.append(asyncio.create_task(rt.run()))
            pool = runtimes["lineage"].pool
            nc = await bus.connect(settings.nats_url, "dl-test")
            yield Deployment(settings, pool, nc, nc.jetstream(), runtimes)
            await nc.drain()
        finally:
            for rt in reversed(runtimes.values()):
                await rt.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)
