"""S3-compatible object storage through aiobotocore: whole-object puts, streamed multipart writes,
streamed (ranged) reads, deletes.

The config follows what was measured here: botocore's default request checksums and SigV4 payload
hashing nearly halve big PUT throughput, and arkive verifies sha256 itself, so both are off.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from types import TracebackType

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from .metrics import BLOB_BYTES
from .s3body import BufferBody

PART_SIZE = 8 * 1024 * 1024
MAX_PARTS_IN_FLIGHT = 2
READ_CHUNK = 1024 * 1024


@functools.cache
def shared_session() -> AioSession:
    """One botocore session per process: it caches the parsed S3 service model (~1 MB of JSON),
    which each new session would parse again for every client; a gateway opens four S3 clients
    at start-up, and a restarted one should be serving again quickly."""
    return get_session()


class BlobStore:
    """One bucket. Use as `async with BlobStore(...) as store:` (opens and closes the HTTP client)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, region: str) -> None:
        self.bucket = bucket
        self._ctx = shared_session().create_client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=AioConfig(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"payload_signing_enabled": False, "addressing_style": "path"},
                max_pool_connections=64,
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )
        self._s3 = None

    async def __aenter__(self) -> BlobStore:
        self._s3 = await self._ctx.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._s3 is not None:
            self._s3 = None
            await self._ctx.__aexit__(None, None, None)

    @property
    def s3(self):
        if self._s3 is None:
            raise RuntimeError("BlobStore is not open")
        return self._s3

    async def ensure_bucket(self) -> None:
        try:
            await self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            with contextlib.suppress(ClientError):  # a racing replica may have created it
                await self.s3.create_bucket(Bucket=self.bucket)
            await self.s3.head_bucket(Bucket=self.bucket)

    async def put(self, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=self.bucket, Key=key, Body=BufferBody(data))
        BLOB_BYTES.labels("uploaded").inc(len(data))

    def writer(self, key: str) -> MultipartWriter:
        return MultipartWriter(self, key)

    async def read(self, key: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """Streams an object (or the byte range offset..offset+length) in chunks of ~1 MiB."""
        kwargs = {"Bucket": self.bucket, "Key": key}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            if length == 0:
                return
            kwargs["Range"] = f"bytes={offset}-{end}"
        resp = await self.s3.get_object(**kwargs)
        async with resp["Body"] as body:
            while True:
                chunk = await body.read(READ_CHUNK)
                if not chunk:
                    break
                BLOB_BYTES.labels("downloaded").inc(len(chunk))
                yield chunk

    async def delete(self, key: str) -> None:
        await self.s3.delete_object(Bucket=self.bucket, Key=key)

    async def exists(self, key: str) -> bool:
        try:
            await self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise


class MultipartWriter:
    """Writes one object from a stream in bounded memory: small objects in one PUT, larger ones as
    multipart uploads with at most MAX_PARTS_IN_FLIGHT parts buffered. Call complete() or abort().

    Written chunks are kept as they are and joined once per request body, into a bytearray: a
    bytes body would be wrapped by botocore in a BytesIO that aiohttp copies again, and growing
    one buffer chunk by chunk reallocates (and copies) it many times. Each copy of an 8 MiB pack
    cost the gateway's event loop about 10 ms here.
    """

    def __init__(self, store: BlobStore, key: str) -> None:
        self._store = store
        self.key = key
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: dict[int, str] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._next_part = 1
        self.size = 0

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(data)
        self._buffered += len(data)
        self.size += len(data)
        # ">": an object of exactly PART_SIZE (a full pack) stays one PUT, not three requests.
        if self._buffered > PART_SIZE:
            await self._send_part(self._take())

    def _take(self) -> bytearray:
        body = bytearray().join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def _send_part(self, part: bytearray) -> None:
        s3 = self._store.s3
        if self._upload_id is None:
            resp = await s3.create_multipart_upload(Bucket=self._store.bucket, Key=self.key)
            self._upload_id = resp["UploadId"]
        while len(self._pending) >= MAX_PARTS_IN_FLIGHT:
            done, self._pending = await asyncio.wait(self._pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()
        number = self._next_part
        self._next_part += 1

        async def upload() -> None:
            resp = await s3.upload_part(
                Bucket=self._store.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=BufferBody(part),
            )
            self._parts[number] = resp["ETag"]

        self._pending.add(asyncio.create_task(upload()))

    async def complete(self) -> None:
        if self._upload_id is None:
            await self._store.s3.put_object(Bucket=self._store.bucket, Key=self.key, Body=BufferBody(self._take()))
            BLOB_BYTES.labels("uploaded").inc(self.size)
            return
        if self._chunks:
            await self._send_part(self._take())
        if self._pending:
            await asyncio.gather(*self._pending)
            self._pending.clear()
        await self._store.s3.complete_multipart_upload(
            Bucket=self._store.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(self._parts.items())]},
        )
        BLOB_BYTES.labels("uploaded").inc(self.size)

    async def abort(self) -> None:
        for t in self._pending:
            t.cancel()
        self._pending.clear()
        self._chunks.clear()
        if self._upload_id is not None:
            with contextlib.suppress(ClientError):
                await self._store.s3.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self.key, UploadId=self._upload_id
                )
