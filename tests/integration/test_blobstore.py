"""The blob store against the real SeaweedFS: whole puts and streamed multipart writes arrive
byte-identical (bodies are sent as views of the gateway's buffers, never copied), and an aborted
write leaves no object."""

from __future__ import annotations

import os
import uuid

import pytest
from botocore.exceptions import ClientError

from arkive_common.blobstore import PART_SIZE, BlobStore


@pytest.fixture
async def store(infra):
    env = infra.env
    async with BlobStore(
        env["ARKIVE_S3_ENDPOINT"],
        env["ARKIVE_S3_ACCESS_KEY"],
        env["ARKIVE_S3_SECRET_KEY"],
        f"store-{uuid.uuid4().hex[:12]}",
        env["ARKIVE_S3_REGION"],
    ) as s:
        await s.ensure_bucket()
        yield s


async def read_all(store: BlobStore, key: str, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join([bytes(c) async for c in store.read(key, offset, length)])


@pytest.mark.parametrize("body_type", [bytes, bytearray, memoryview])
async def test_put_sends_any_buffer_byte_identical(store: BlobStore, body_type) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    await store.put("whole", body_type(data))
    assert await read_all(store, "whole") == data
    assert await read_all(store, "whole", 1000, 5000) == data[1000:6000]


@pytest.mark.parametrize("size", [0, 1, PART_SIZE, PART_SIZE + 1, 2 * PART_SIZE + 12345])
async def test_streamed_write_is_byte_identical_at_part_boundaries(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    writer = store.writer(f"stream-{size}")
    # Uneven pieces (as messages arrive), some of them views into a larger buffer.
    at, step = 0, 0
    while at < size:
        n = (1024 * 1024, 333_333, 7)[step % 3]
        piece = memoryview(data)[at : at + n] if step % 2 else data[at : at + n]
        await writer.write(piece)
        at += n
        step += 1
    await writer.complete()
    assert await store.exists(f"stream-{size}")
    assert await read_all(store, f"stream-{size}") == data


async def test_aborted_multipart_write_leaves_no_object(store: BlobStore) -> None:
    writer = store.writer("aborted")
    await writer.write(os.urandom(PART_SIZE + 1))  # past one part: a multipart upload is open
    await writer.write(os.urandom(1024))
    await writer.abort()
    assert not await store.exists("aborted")
    with pytest.raises(ClientError):
        await read_all(store, "aborted")
