"""Requests and replies larger than one NATS message (max_payload, 1 MiB here) cross the bus in
parts (arkive_common.rpc_transfer) through the session's real nats-server, and the caller and the
handler see whole messages: nothing else knows the bus' message size."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from arkive_core.errors import Unavailable
from support import assert_eventually
from test_internal_plane import PREFIX as PLANE_PREFIX
from test_internal_plane import plane as closed_plane  # noqa: F401 (fixture: nats-server with per-service users)

from arkive_common import bus
from arkive_common.contract import Handlers, Rpc
from arkive_common.rpc import RpcClient, RpcServer


class Payload(msgspec.Struct, frozen=True):
    data: bytes = b""
    reply_bytes: int = 0


class Digest(msgspec.Struct, frozen=True):
    sha256: str
    size: int


ECHO = Rpc("xfer", "echo", Payload, Payload)  # replies with reply_bytes bytes
DIGEST = Rpc("xfer", "digest", Payload, Digest)  # what the handler received
MIB = 1 << 20


@pytest.fixture
async def client(infra) -> AsyncIterator[RpcClient]:
    nc = await bus.connect(infra.nats_url, "test-bus-transfer")
    server_nc = await bus.connect(infra.nats_url, "test-bus-transfer-server")
    prefix = f"t{uuid.uuid4().hex[:8]}"

    async def echo(request: Payload) -> Payload:
        return Payload(data=bytes(range(256)) * (request.reply_bytes // 256))

    async def digest(request: Payload) -> Digest:
        return Digest(hashlib.sha256(request.data).hexdigest(), len(request.data))

    handlers = Handlers("xfer")
    handlers.handle(ECHO, echo)
    handlers.handle(DIGEST, digest)
    server = RpcServer(server_nc, prefix, handlers)
    await server.start()
    try:
        assert nc.max_payload <= MIB  # the server's default: these messages do not fit one
        yield RpcClient(nc, prefix)
    finally:
        await server.shutdown()
        await nc.close()
        await server_nc.close()


async def test_a_10_mib_reply_arrives_whole(client: RpcClient) -> None:
    reply = await client.call(ECHO, Payload(reply_bytes=10 * MIB))
    assert len(reply.data) == 10 * MIB and reply.data == bytes(range(256)) * (10 * MIB // 256)


async def test_a_10_mib_request_arrives_whole(client: RpcClient) -> None:
    data = hashlib.sha256(b"seed").digest() * (10 * MIB // 32) + b"tail"
    got = await client.call(DIGEST, Payload(data=data))
    assert got == Digest(hashlib.sha256(data).hexdigest(), len(data))


async def test_large_requests_and_replies_interleave(client: RpcClient) -> None:

    replies = await asyncio.gather(
        *(client.call(ECHO, Payload(data=b"q" * (2 * MIB), reply_bytes=n * MIB)) for n in (1, 3, 5))
    )
    assert [len(r.data) for r in replies] == [1 * MIB, 3 * MIB, 5 * MIB]
    small = await client.call(ECHO, Payload(reply_bytes=256))
    assert len(small.data) == 256


async def test_a_transfer_needs_no_permission_beyond_the_closed_planes(closed_plane) -> None:  # noqa: F811
    """As the ingest and gateway NATS users of the closed internal plane (libs/stack natsauth.py):
    a replica subscribes only to its own rpc subjects and the inboxes, and the parts still cross."""
    plane = closed_plane
    server_nc, client_nc = await plane.connect("ingest"), await plane.connect("gateway")
    echo = Rpc("ingest", "transfer_echo", Payload, Payload)
    digest = Rpc("ingest", "transfer_digest", Payload, Digest)

    async def answer_echo(request: Payload) -> Payload:
        return Payload(data=b"r" * request.reply_bytes)

    async def answer_digest(request: Payload) -> Digest:
        return Digest(hashlib.sha256(request.data).hexdigest(), len(request.data))

    handlers = Handlers("ingest")
    handlers.handle(echo, answer_echo)
    handlers.handle(digest, answer_digest)
    server = RpcServer(server_nc, PLANE_PREFIX, handlers)
    await server.start()
    try:
        client = RpcClient(client_nc, PLANE_PREFIX)
        reply = await assert_eventually(
            lambda: client.call(echo, Payload(reply_bytes=10 * MIB)), retry_on=(Unavailable,), timeout=10
        )
        assert reply.data == b"r" * (10 * MIB)
        data = b"q" * (3 * MIB + 5)
        assert await client.call(digest, Payload(data=data)) == Digest(hashlib.sha256(data).hexdigest(), len(data))
        assert not plane.errors  # no permissions violation reported by the server
    finally:
        await server.shutdown()
        await server_nc.close()
        await client_nc.close()
