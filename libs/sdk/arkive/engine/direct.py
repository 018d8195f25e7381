"""Direct uploads (docs/architecture.md, "Direct uploads"): a large file the server lacks is PUT
straight to object storage with the presigned URL StartDirectUpload returns, then registered with
FinishDirectUpload. The storage verifies the sha256 (the URL's signed checksum header), the
gateway checks what it verified; nothing passes the gateway, so a 256 MiB file costs the client
~0.13 CPU-s instead of a gRPC stream that also costs the gateway 1.0-1.5 CPU-s (measured here).

The caller falls back to UploadBlob when this returns False: the server has direct uploads off or
predates them, the file is outside the sizes one PUT takes, or the storage cannot be reached from
here (a public endpoint that is not public). A log remembers that in its DirectState (_http.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import BinaryIO

from arkive_core.errors import ArkiveError, Code

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import RETRY_ATTEMPTS, Retry, call_idempotent, call_if_offered, retry_delay
from .files import HashedFile, changed, differs
from .http import DirectState, connect
from .progress import NullProgress
from .wire import BlobStub

log = logging.getLogger("arkive")
DIRECT_FROM = 8 * 1024 * 1024  # smaller files stream through the gateway: two round trips less
DIRECT_MAX = 5 * 1024**3  # one S3 PutObject
PUT_BLOCK = 1024 * 1024  # http.client sends a file body in blocks of this size (default 8 KiB)


async def upload_direct(
    stub: BlobStub, f: HashedFile, address: str, timeout: float, progress: NullProgress, state: DirectState
) -> bool:
    """Sends one file directly; False if the caller should use UploadBlob instead."""
    if state.off or not DIRECT_FROM <= f.size <= DIRECT_MAX:
        return False
    start = await _start(stub, f, address, timeout)
    if start is None:
        state.off = True
        return False
    if start.already_present:
        progress.advance(f.size)
        return True
    for attempt in range(RETRY_ATTEMPTS):
        sent = [0]
        try:
            status, body = await _put(start.url, dict(start.headers), f, progress, sent)
        except _Shrunk:
            progress.advance(-sent[0])
            raise changed(f) from None
        except OSError as exc:  # refused, reset, timed out, unknown host
            progress.advance(-sent[0])
            if attempt + 1 < RETRY_ATTEMPTS:
                await asyncio.sleep(retry_delay(attempt))
                continue
            log.warning("object storage unreachable for direct uploads (%s); sending through the gateway", exc)
            state.off = True
            return False
        if 200 <= status < 300:
            break
        progress.advance(-sent[0])
        if status == 400 and await differs(f):  # the storage refused bytes that no longer hash to the digest
            raise changed(f)
        if status >= 500 and attempt + 1 < RETRY_ATTEMPTS:
            await asyncio.sleep(retry_delay(attempt))
            continue
        raise ArkiveError(f"object storage refused the upload of {f.path!r}: HTTP {status}: {body!r}", Code.INTERNAL)
    await _finish(stub, f, start.upload_id, address, timeout)
    return True


async def _start(stub: BlobStub, f: HashedFile, address: str, timeout: float) -> bpb.StartDirectUploadResponse | None:
    req = bpb.StartDirectUploadRequest(digest=f.digest, size=f.size)
    return await call_if_offered(stub.StartDirectUpload, req, address, timeout, Retry.of(stub))


async def _finish(stub: BlobStub, f: HashedFile, upload_id: str, address: str, timeout: float) -> None:
    # Idempotent: a second finish finds the blob registered (and keeps its one copy).
    req = bpb.FinishDirectUploadRequest(digest=f.digest, size=f.size, upload_id=upload_id)
    await call_idempotent(stub.FinishDirectUpload, req, address, timeout, Retry.of(stub))


async def _put(url: str, headers: dict[str, str], f: HashedFile, progress: NullProgress, sent: list[int]):
    stop = threading.Event()
    try:
        return await asyncio.to_thread(_put_blocking, url, headers, f.source, f.size, progress, sent, stop)
    finally:
        stop.set()  # cancelled (Ctrl-C, another upload failed): the thread stops at its next block


class _Shrunk(Exception):
    """The file ended before the size it was hashed with (or is gone)."""


class _Body:
    """The file as http.client reads it: exactly `size` bytes, counted, stoppable."""

    def __init__(self, src: BinaryIO, size: int, progress: NullProgress, sent: list[int], stop: threading.Event):
        self._src, self._left, self._progress, self._sent, self._stop = src, size, progress, sent, stop

    def read(self, n: int = -1) -> bytes:
        if self._stop.is_set():
            raise OSError("upload cancelled")
        if self._left == 0:
            return b""
        data = self._src.read(self._left if n < 0 else min(n, self._left))
        if not data:
            raise _Shrunk()
        self._left -= len(data)
        self._sent[0] += len(data)
        self._progress.advance(len(data))
        return data


def _put_blocking(
    url: str,
    headers: dict[str, str],
    source: Path,
    size: int,
    progress: NullProgress,
    sent: list[int],
    stop: threading.Event,
) -> tuple[int, bytes]:
    conn, target = connect(url, PUT_BLOCK)
    try:
        src = open(source, "rb")
    except OSError as exc:  # vanished since hashing: not the storage's fault
        raise _Shrunk() from exc
    try:
        with src:
            body = _Body(src, size, progress, sent, stop)
            conn.request("PUT", target, body=body, headers={**headers, "Content-Length": str(size)})
            resp = conn.getresponse()
            return resp.status, resp.read(4096)
    finally:
        conn.close()
