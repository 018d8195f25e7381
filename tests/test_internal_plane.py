"""The closed internal plane: NATS users with subject permissions, PostgreSQL with SCRAM passwords.

The NATS tests run a real nats-server with the config the launcher writes (fast: no other
servers); the attack tests run against the session's stack, where the services themselves use
their own users; the PostgreSQL tests run the embedded postgres binaries on a data dir of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError
from support import assert_eventually, scratch_dir

from arkive_common import bus
from arkive_stack import Stack, natsauth, pgauth, postgres, servers
from arkive_stack.ports import HOST, free_port
from arkive_stack.probes import wait_until
from arkive_stack.processes import ManagedProcess

PREFIX, STREAM = "arkive", "ARKIVE_EVENTS"


@dataclass
class Plane:
    url: str
    passwords: dict[str, str]
    errors: list[str] = field(default_factory=list)

    async def connect(self, user: str) -> NATS:
        async def on_error(exc: Exception) -> None:
            self.errors.append(f"{user}: {exc}")

        return await nats.connect(
            self.url, user=user, password=self.passwords[user], error_cb=on_error, allow_reconnect=False
        )


@pytest_asyncio.fixture(loop_scope="session")
async def plane(tmp_path: Path) -> AsyncIterator[Plane]:
    """A nats-server started from the launcher's config, with the event stream created by admin."""
    passwords = natsauth.ensure_passwords(tmp_path / "secrets")
    port = free_port(set())
    auth = natsauth.authorization(passwords, PREFIX, STREAM)
    proc = servers.nats_process(tmp_path / "nats", port, tmp_path / "nats.log", 2.0, auth)
    proc.start()
    try:
        await wait_until(lambda: servers.nats_ready(HOST, port), what="nats", timeout=20, watch=[proc])
        p = Plane(f"nats://{HOST}:{port}", passwords)
        admin = await p.connect(natsauth.ADMIN)
        await bus.ensure_stream(admin.jetstream(), STREAM, PREFIX)
        await admin.close()
        yield p
    finally:
        await proc.stop()


def test_secrets_and_the_config_holding_them_are_private(plane: Plane, tmp_path: Path) -> None:
    assert set(plane.passwords) == set(natsauth.USERS) and len(set(plane.passwords.values())) == len(natsauth.USERS)
    for user in natsauth.USERS:
        assert (tmp_path / "secrets" / user).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "nats" / "nats-server.conf").stat().st_mode & 0o777 == 0o600
    assert natsauth.ensure_passwords(tmp_path / "secrets") == plane.passwords  # kept across starts


async def test_nats_refuses_a_connection_without_or_with_wrong_credentials(plane: Plane) -> None:
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(plane.url, allow_reconnect=False, max_reconnect_attempts=0)
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(plane.url, user="hashing", password="guess", allow_reconnect=False, max_reconnect_attempts=0)


async def test_only_the_owning_service_receives_its_rpc_requests(plane: Plane) -> None:
    hashing, admin = await plane.connect("hashing"), await plane.connect(natsauth.ADMIN)
    try:
        stolen = await hashing.subscribe(f"{PREFIX}.rpc.ingest.>")
        own = await hashing.subscribe(f"{PREFIX}.rpc.hashing.>")
        await hashing.flush()
        # One publisher, one subscriber connection: NATS keeps the order, so once the second
        # message arrived the first would have too, had the subscription been allowed. (Sent again
        # until one arrives: a new subscription can take a moment to see messages from another connection.)

        async def delivered() -> None:
            await admin.publish(f"{PREFIX}.rpc.ingest.create_draft", b"request")
            await admin.publish(f"{PREFIX}.rpc.hashing.stat", b"request")
            assert (await own.next_msg(timeout=0.3)).subject == f"{PREFIX}.rpc.hashing.stat"

        await assert_eventually(delivered, retry_on=(NatsTimeout,))
        with pytest.raises(NatsTimeout):
            await stolen.next_msg(timeout=0.2)
        await assert_eventually(
            lambda: any("permissions violation for subscription" in e.lower() for e in plane.errors)
        )
    finally:
        await hashing.close()
        await admin.close()


async def test_a_service_can_call_others_and_answer_its_own_requests(plane: Plane) -> None:
    ingest, lineage = await plane.connect("ingest"), await plane.connect("lineage")
    try:

        async def answer(msg) -> None:
            await msg.respond(b"pong:" + msg.data)

        await lineage.subscribe(f"{PREFIX}.rpc.lineage.ping", cb=answer)
        await lineage.flush()
        # (a new subscription can take a moment to see requests from another connection, hence
        # the retries on "no responders", as RpcClient does)
        retry = (NoRespondersError,)
        reply = await assert_eventually(lambda: ingest.request(f"{PREFIX}.rpc.lineage.ping", b"1"), retry_on=retry)
        assert reply.data == b"pong:1"
        # `arkive status`: the gateway asks every process, each answers
        gateway = await plane.connect("gateway")
        await lineage.subscribe(f"{PREFIX}.status", cb=answer)
        await lineage.flush()
        reply = await assert_eventually(lambda: gateway.request(f"{PREFIX}.status", b"2"), retry_on=retry)
        assert reply.data == b"pong:2"
        await gateway.close()
    finally:
        await ingest.close()
        await lineage.close()


async def test_only_event_publishers_can_put_events_into_the_stream(plane: Plane) -> None:
    subject = f"{PREFIX}.events.version.VersionsDeleted"
    gateway, retention, admin = [await plane.connect(u) for u in ("gateway", "retention", natsauth.ADMIN)]
    try:
        with pytest.raises((NatsTimeout, NoRespondersError)):
            await gateway.jetstream().publish(subject, b"forged", headers={"Nats-Msg-Id": "forged"}, timeout=1)
        await assert_eventually(lambda: any("permissions violation for publish" in e.lower() for e in plane.errors))
        with pytest.raises(NotFoundError):
            await admin.jetstream().get_last_msg(STREAM, subject)
        # the JetStream API is closed to it too: no consumers, no purge
        with pytest.raises((NatsTimeout, NoRespondersError)):
            await gateway.jetstream().stream_info(STREAM)
        ack = await retention.jetstream().publish(subject, b"relayed", timeout=5)  # a relay may
        assert ack.stream == STREAM
        assert (await admin.jetstream().get_last_msg(STREAM, subject)).data == b"relayed"
    finally:
        for nc in (gateway, retention, admin):
            await nc.close()


async def test_the_attack_of_the_issue_fails_against_the_running_stack(stack: Stack) -> None:
    """A local process without credentials called hashing.collect_garbage and published a forged
    VersionsDeleted; with the gateway's credentials it can do neither."""
    url = stack.env["ARKIVE_NATS_URL"]  # without credentials
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
    secrets = Path(stack.env["ARKIVE_NATS_PASSWORD_FILE"]).parent
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    password = (secrets / "gateway").read_text().strip()
    gateway = await nats.connect(url, user="gateway", password=password, error_cb=on_error, allow_reconnect=False)
    admin = await nats.connect(stack.nats_url)
    subject = f"{PREFIX}.events.forged{uuid.uuid4().hex[:8]}.VersionsDeleted"
    try:
        with pytest.raises((NatsTimeout, NoRespondersError)):
            await gateway.jetstream().publish(subject, b"forged", timeout=1)
        with pytest.raises(NotFoundError):
            await admin.jetstream().get_last_msg(STREAM, subject)
        await gateway.subscribe(f"{PREFIX}.rpc.hashing.>")  # to answer (or swallow) hashing's requests
        await gateway.flush()
        await assert_eventually(lambda: any("permissions violation for subscription" in e.lower() for e in errors))
    finally:
        await gateway.close()
        await admin.close()


def test_each_service_process_gets_its_own_nats_user_and_only_paths_to_secrets(stack: Stack) -> None:
    import psutil

    for proc in stack.services:
        assert proc.pid is not None
        env = psutil.Process(proc.pid).environ()
        service = proc.name.split("-")[0]
        assert "ARKIVE_NATS_PASSWORD" not in env and "ARKIVE_DATABASE_PASSWORD" not in env, service
        if service == "web":  # the dashboard talks to the gateway only
            assert "ARKIVE_NATS_USER" not in env and "ARKIVE_DATABASE_PASSWORD_FILE" not in env
            continue
        assert env["ARKIVE_NATS_USER"] == service
        assert Path(env["ARKIVE_NATS_PASSWORD_FILE"]).name == service
        assert ("ARKIVE_DATABASE_PASSWORD_FILE" in env) == (service != "gateway"), service


def test_no_password_is_in_any_log_or_status_line(stack: Stack, infra: Stack) -> None:
    secrets_dir = infra.config.data_dir / "secrets"
    passwords = [p.read_text().strip() for p in secrets_dir.rglob("*") if p.is_file() and "applied" not in p.name]
    assert len(passwords) == len(natsauth.USERS) + 1
    lines = [*infra.status_lines(), *stack.status_lines(), *(f"{k}={v}" for k, v in stack.env.items())]
    logs = [p for s in (infra, stack) for p in s.config.logs.rglob("*.log")]
    assert len(logs) >= 8  # three servers and five services
    texts = [*lines, *(p.read_text(errors="replace") for p in logs)]
    for password in passwords:
        assert not any(password in text for text in texts)


@contextlib.asynccontextmanager
async def _postgres(data: Path, port: int) -> AsyncIterator[ManagedProcess]:
    proc = postgres.process(data, port, data.parent / "pg.log", *_owner(data), 5.0)
    proc.start()
    try:
        await wait_until(lambda: postgres.ready(data, port), what="postgres", timeout=30, watch=[proc])
        yield proc
    finally:
        await proc.stop()


def _owner(data: Path) -> tuple[int | None, int | None]:
    import os

    if os.geteuid() != 0:
        return None, None
    st = data.stat()
    return st.st_uid, st.st_gid


async def test_postgres_requires_the_password_and_an_old_trust_data_dir_is_migrated() -> None:
    with scratch_dir("arkive-pg-auth-") as root:
        data, log, port = root / "postgres", root / "pg.log", free_port(set())
        # a data dir as `arkive up` made it before passwords: initdb --auth=trust, nothing else
        await asyncio.to_thread(postgres.prepare, data, log, "unused", root / "unused.applied")
        (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        dsn = postgres.url(port)
        async with _postgres(data, port):
            await (await asyncpg.connect(dsn)).close()  # trust: anyone
        password = pgauth.ensure_password(root / "secrets" / "postgres-password")
        marker = root / "secrets" / "postgres-password.applied"
        await asyncio.to_thread(postgres.prepare, data, log, password, marker)
        async with _postgres(data, port):
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(dsn)
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(dsn, password="wrong")
            conn = await asyncpg.connect(dsn, password=password)
            assert await conn.fetchval(
                "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'"
            )
            await conn.close()
        # rotation: a new password file (the old one deleted) is applied on the next start
        (root / "secrets" / "postgres-password").unlink()
        rotated = pgauth.ensure_password(root / "secrets" / "postgres-password")
        assert rotated != password
        await asyncio.to_thread(postgres.prepare, data, log, rotated, marker)
        async with _postgres(data, port):
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(dsn, password=password)
            await (await asyncpg.connect(dsn, password=rotated)).close()
        assert all(
            secret not in p.read_text(errors="replace") for p in root.rglob("*.log") for secret in (password, rotated)
        )
