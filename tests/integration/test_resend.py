"""The bus re-sends a request that a replica took down with it (Rpc.resend), and what it re-sends
is safe twice: a blob or pack registration replayed at the same key keeps its object."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from arkive_core.errors import ArkiveError, Code

from arkive_common import api, bus, rpc
from arkive_common.contract import Handlers, Rpc
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient, RpcServer

from .stores import stack_store


class Ask(msgspec.Struct, frozen=True):
    n: int


GET_VERSION = Rpc("ingest", "get_version", Ask, int, resend=True)
ABORT_DRAFT = Rpc("ingest", "abort_draft", Ask, int)


@pytest.fixture
async def flaky(infra, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[RpcClient, list[int]]]:
    """A fake "ingest" on a prefix of its own whose first request of each kind is swallowed, as if the
    replica holding it had been killed."""
    monkeypatch.setattr(rpc, "RESEND_AFTER", 0.3)
    nc = await bus.connect(infra.nats_url, "test-resend")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    seen: list[int] = []

    async def swallow_first(req: Ask) -> int:
        seen.append(req.n)
        if seen.count(req.n) == 1:
            await asyncio.sleep(30)  # never answers in time
        return req.n * 2

    handlers = Handlers("ingest")
    handlers.handle(GET_VERSION, swallow_first)
    handlers.handle(ABORT_DRAFT, swallow_first)
    server = RpcServer(nc, prefix, handlers)
    await server.start()
    try:
        yield RpcClient(nc, prefix), seen
    finally:
        await server.shutdown()
        await nc.close()


async def test_a_lost_request_of_a_resendable_method_is_sent_again(flaky) -> None:
    client, seen = flaky
    started = time.monotonic()
    assert await client.call(GET_VERSION, Ask(7), timeout=10) == 14
    assert seen == [7, 7] and time.monotonic() - started < 5


async def test_other_methods_are_sent_once(flaky) -> None:
    client, seen = flaky
    with pytest.raises(ArkiveError) as info:
        await client.call(ABORT_DRAFT, Ask(3), timeout=1.0)
    assert info.value.code == Code.DEADLINE_EXCEEDED and seen == [3]


async def test_registrations_replayed_at_the_same_key_keep_their_objects(stack) -> None:
    nc = await bus.connect(stack.nats_url, "test-resend-register")
    hashing = RpcClient(nc, stack.env.get("ARKIVE_SUBJECT_PREFIX", "arkive"))
    data = os.urandom(3000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    key = f"blobs/sha256/{digest[7:9]}/{digest[7:]}/{uuid.uuid4().hex}"
    members = [os.urandom(100 + i) for i in range(3)]
    pack_key = f"packs/{uuid.uuid4().hex}"
    blobs, at = [], 0
    for m in members:
        blobs.append(("sha256:" + hashlib.sha256(m).hexdigest(), len(m), at))
        at += len(m)
    try:
        async with stack_store(stack) as store:
            await store.put(key, data)
            await store.put(pack_key, b"".join(members))
        request = api.RegisterBlob(digest, len(data), key, len(data))
        first = await hashing.call(HASHING.register, request)
        again = await hashing.call(HASHING.register, request)
        assert not first.already_present and again.already_present
        assert again.blob.key == key  # indexed at the caller's own key: the gateway keeps that object
        pack = api.RegisterPack(pack_key, blobs, at)
        first_pack = await hashing.call(HASHING.register_pack, pack)
        again_pack = await hashing.call(HASHING.register_pack, pack)
        assert first_pack.stored == again_pack.stored == 3  # not 0, which would make the gateway delete it
        other = api.RegisterBlob(digest, len(data), key + "-copy", len(data))
        assert (await hashing.call(HASHING.register, other)).already_present
    finally:
        await nc.close()
