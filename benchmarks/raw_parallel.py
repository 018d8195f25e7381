"""Raw parallel limits for large objects, measured in the same run as the peers' table: a multipart
PUT of each file with its parts in flight together, and ranged GETs of the same objects in
parallel, with aiobotocore straight to the stack's SeaweedFS (configured as in raw.s3_client)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from . import raw

MiB = 1024 * 1024
# (part size, requests in flight per object): the best of these is reported as the limit.
SHAPES = ((8 * MiB, 4), (8 * MiB, 8), (16 * MiB, 8))


async def multipart_put(s3: Any, key: str, data: bytes, part: int, in_flight: int) -> None:
    """One object as a multipart upload, `in_flight` parts at a time."""
    created = await s3.create_multipart_upload(Bucket=raw.RAW_BUCKET, Key=key)
    upload_id = created["UploadId"]
    etags: dict[int, str] = {}

    async def put(number: int) -> None:
        offset = (number - 1) * part
        resp = await s3.upload_part(
            Bucket=raw.RAW_BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data[offset : offset + part]
        )
        etags[number] = resp["ETag"]

    numbers = list(range(1, (len(data) + part - 1) // part + 1))
    await raw._bounded(numbers, put, in_flight)
    await s3.complete_multipart_upload(
        Bucket=raw.RAW_BUCKET,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in numbers]},
    )


async def ranged_get(s3: Any, key: str, size: int, part: int, in_flight: int) -> int:
    """Bytes of one object read into memory with ranged GETs, `in_flight` at a time."""
    received = 0

    async def get(offset: int) -> None:
        nonlocal received
        end = min(size, offset + part) - 1
        resp = await s3.get_object(Bucket=raw.RAW_BUCKET, Key=key, Range=f"bytes={offset}-{end}")
        async with resp["Body"] as body:
            while chunk := await body.read(MiB):
                received += len(chunk)

    await raw._bounded(list(range(0, size, part)), get, in_flight)
    return received


async def best_put(s3: Any, blobs: Sequence[bytes], repeat: int = 1) -> tuple[float, str]:
    """(seconds, shape) of the fastest parallel multipart PUT of every blob at once."""
    best = (float("inf"), "")
    for part, in_flight in SHAPES:
        for r in range(repeat):
            keys = [f"mp-{part}-{in_flight}-{r}-{i}" for i in range(len(blobs))]
            started = time.perf_counter()
            await asyncio.gather(*(multipart_put(s3, k, b, part, in_flight) for k, b in zip(keys, blobs, strict=True)))
            took = time.perf_counter() - started
            best = min(best, (took, f"{part // MiB} MiB parts, {in_flight} per object in flight"))
    return best


async def best_get(s3: Any, blobs: Sequence[bytes], repeat: int = 1) -> tuple[float, str]:
    """(seconds, shape) of the fastest parallel ranged GET of every blob at once (written by best_put
    under its first shape's keys, which it GETs back; the bytes are checked by length)."""
    part0, flight0 = SHAPES[0]
    keys = [f"mp-{part0}-{flight0}-0-{i}" for i in range(len(blobs))]
    best = (float("inf"), "")
    for part, in_flight in SHAPES:
        for _ in range(repeat):
            started = time.perf_counter()
            got = await asyncio.gather(
                *(ranged_get(s3, k, len(b), part, in_flight) for k, b in zip(keys, blobs, strict=True))
            )
            took = time.perf_counter() - started
            if got != [len(b) for b in blobs]:
                raise RuntimeError(f"ranged GET returned {got} bytes, expected {[len(b) for b in blobs]}")
            best = min(best, (took, f"{part // MiB} MiB ranges, {in_flight} per object in flight"))
    return best
