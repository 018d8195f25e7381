"""Raw limits, measured in the same run: aiobotocore straight to the stack's SeaweedFS, and sha256."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

T = TypeVar("T")
RAW_BUCKET = "arkive-bench-raw"


@contextlib.asynccontextmanager
async def s3_client(env: dict[str, str]) -> AsyncIterator[Any]:
    """An S3 client on the stack's endpoint, configured as measured in FACTS.md (and as arkive's
    own BlobStore): no request checksums, no SigV4 payload hashing, enough pooled connections."""
    config = AioConfig(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"payload_signing_enabled": False, "addressing_style": "path"},
        max_pool_connections=64,
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=env["ARKIVE_S3_ENDPOINT"],
        aws_access_key_id=env["ARKIVE_S3_ACCESS_KEY"],
        aws_secret_access_key=env["ARKIVE_S3_SECRET_KEY"],
        region_name=env["ARKIVE_S3_REGION"],
        config=config,
    ) as s3:
        yield s3


async def prepare_bucket(s3: Any, bucket: str = RAW_BUCKET) -> None:
    """Creates the bucket and writes one tiny object, so that SeaweedFS grows the bucket's volumes
    before anything is timed (the SDK's warm-up does the same for arkive's bucket)."""
    try:
        await s3.head_bucket(Bucket=bucket)
    except ClientError:
        await s3.create_bucket(Bucket=bucket)
    await s3.put_object(Bucket=bucket, Key="warm-up", Body=b"warm-up")
    await s3.get_object(Bucket=bucket, Key="warm-up")


async def _bounded(items: Sequence[T], worker: Callable[[T], Awaitable[None]], limit: int) -> None:
    it = iter(items)

    async def lane() -> None:
        for item in it:
            await worker(item)

    await asyncio.gather(*(lane() for _ in range(max(1, min(limit, len(items))))))


async def put_all(s3: Any, keys: Sequence[str], blobs: Sequence[bytes], in_flight: int) -> float:
    """Seconds to PUT every blob as its own object, `in_flight` requests at a time."""

    async def put(i: int) -> None:
        await s3.put_object(Bucket=RAW_BUCKET, Key=keys[i], Body=blobs[i])

    started = time.perf_counter()
    await _bounded(range(len(keys)), put, in_flight)
    return time.perf_counter() - started


async def get_all(s3: Any, keys: Sequence[str], in_flight: int) -> tuple[float, int]:
    """(seconds, bytes) to GET every object into memory, `in_flight` requests at a time."""
    received = 0

    async def get(key: str) -> None:
        nonlocal received
        resp = await s3.get_object(Bucket=RAW_BUCKET, Key=key)
        async with resp["Body"] as body:
            while chunk := await body.read(1024 * 1024):
                received += len(chunk)

    started = time.perf_counter()
    await _bounded(keys, get, in_flight)
    return time.perf_counter() - started, received


def hash_threads() -> int:
    return os.cpu_count() or 1


def sha256_all(blobs: Sequence[bytes], threads: int | None = None) -> float:
    """Seconds to sha256 every blob (in memory) on one thread per core; hashlib releases the GIL."""
    threads = threads or hash_threads()
    slices = [blobs[i::threads] for i in range(threads)]

    def work(part: Sequence[bytes]) -> None:
        for b in part:
            hashlib.sha256(b).digest()

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(work, slices))
        return time.perf_counter() - started
