"""The bus RPC layer against the session's real NATS and PostgreSQL: what a caller sees when a
handler fails in an unexpected way, and when a request or reply is over the bus' limit
(limits.MAX_BUS_TRANSFER_BYTES; larger than one NATS message is fine: test_bus_transfer.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
from arkive_core import limits
from arkive_core.errors import ArkiveError, Code, InvalidArgument

from arkive_common import bus
from arkive_common.contract import Handlers, Rpc
from arkive_common.rpc import RpcClient, RpcServer


class Blob(msgspec.Struct):
    data: bytes = b""


NAMES = ("echo", "big_reply", "nul_text", "duplicate", "bug", "db_restarting", "db_gone", "db_full")
CONTRACT = {name: Rpc("svc", name, Blob, bytes if name == "big_reply" else int) for name in NAMES}


class Calls:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.seen: list[str] = []

    async def echo(self, request: Blob) -> int:
        self.seen.append("echo")
        return len(request.data)

    async def big_reply(self, request: Blob) -> bytes:
        return b"x" * (3 << 20)  # over the limit of small_limit below

    async def nul_text(self, request: Blob) -> int:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute("SELECT $1::text", "a\x00b")  # PostgreSQL refuses NUL in text
        finally:
            await conn.close()

    async def duplicate(self, request: Blob) -> int:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute("CREATE TEMP TABLE once (x int PRIMARY KEY); INSERT INTO once VALUES (1), (1)")
        finally:
            await conn.close()

    async def bug(self, request: Blob) -> int:
        raise RuntimeError("password=hunter2 SELECT * FROM secrets")

    async def db_restarting(self, request: Blob) -> int:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    async def db_gone(self, request: Blob) -> int:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    async def db_full(self, request: Blob) -> int:
        raise asyncpg.TooManyConnectionsError("sorry, too many clients already")  # 53300, every client reconnecting


@pytest.fixture
async def rpc(infra) -> AsyncIterator[tuple[RpcClient, Calls]]:
    nc = await bus.connect(infra.nats_url, "test-rpc-errors")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    calls = Calls(infra.database_url)
    handlers = Handlers("svc")
    for name in NAMES:
        handlers.handle(CONTRACT[name], getattr(calls, name))
    server = RpcServer(nc, prefix, handlers)
    await server.start()
    try:
        yield RpcClient(nc, prefix), calls
    finally:
        await server.shutdown()
        await nc.close()


async def failure_of(client: RpcClient, method: str, request: Blob | None = None) -> tuple[ArkiveError, float]:
    start = time.monotonic()
    with pytest.raises(ArkiveError) as info:
        await client.call(CONTRACT[method], request or Blob(), timeout=20)
    return info.value, time.monotonic() - start


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(limits, "MAX_BUS_TRANSFER_BYTES", 2 << 20)
    return 2 << 20


async def test_a_request_over_the_bus_limit_is_refused_before_sending(rpc, small_limit):
    client, calls = rpc
    assert await client.call(CONTRACT["echo"], Blob(b"x" * 1000)) == 1000
    error, seconds = await failure_of(client, "echo", Blob(b"x" * (small_limit + 1)))
    assert isinstance(error, InvalidArgument) and "svc.echo" in error.message and "bytes" in error.message
    assert seconds < 1 and calls.seen == ["echo"]  # the handler never saw it


async def test_a_reply_over_the_bus_limit_is_an_error_at_once(rpc, small_limit):
    error, seconds = await failure_of(rpc[0], "big_reply")
    assert error.code == Code.RESOURCE_EXHAUSTED and "reply of svc.big_reply" in error.message
    assert seconds < 5  # not the 20 s timeout


async def test_database_errors_reach_the_caller_without_their_text(rpc):
    refused, _ = await failure_of(rpc[0], "nul_text")
    assert refused.code == Code.INVALID_ARGUMENT
    assert "0x00" not in refused.message and "UTF8" not in refused.message
    conflict, _ = await failure_of(rpc[0], "duplicate")
    assert conflict.code == Code.ABORTED
    assert "once" not in conflict.message and "duplicate key" not in conflict.message


async def test_an_unexpected_error_is_internal_with_an_incident_id_only(rpc):
    error, _ = await failure_of(rpc[0], "bug")
    assert error.code == Code.INTERNAL and "incident" in error.message
    assert "hunter2" not in error.message and "SELECT" not in error.message


async def test_a_restarting_or_lost_database_is_unavailable_so_callers_retry(rpc):
    for method in ("db_restarting", "db_gone", "db_full"):
        error, _ = await failure_of(rpc[0], method)
        assert error.code == Code.UNAVAILABLE and "try again" in error.message, method
        assert "starting up" not in error.message and "closed" not in error.message
