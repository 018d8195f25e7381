"""Direct downloads: a large blob is read straight from object storage with the presigned URL and
byte range GetDownloadUrls returns, past the gateway (docs/architecture.md, "Direct uploads" and
downloads). The bytes go into the same Sink as a DownloadBlob stream, which verifies size and sha256
before anything is renamed into place, so the storage is trusted with nothing.

Why: 256 MiB through the gateway took 2.2 s here against 0.44 s for a raw GET (the gateway reads
S3, then gRPC carries every byte again). On any failure the caller goes on with DownloadBlob from
the byte reached (the Sink keeps what arrived): the server has direct transfers off or predates
them, the blob is a composite of chunks, or the storage cannot be reached from here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import RETRY_ATTEMPTS, Retry, call_if_offered, retry_delay
from .http import DirectState, connect
from .progress import NullProgress
from .sink import Sink
from .types import FileInfo
from .wire import BlobStub

log = logging.getLogger("arkive")
DIRECT_FROM = 8 * 1024 * 1024  # smaller blobs come many to a gRPC stream (or alone, cheaply)
READ_BLOCK = 1024 * 1024
# Past PARALLEL_FROM a blob is read as RANGE_BYTES ranges on RANGE_STREAMS connections at once, each
# written at its offset (os.pwrite) into the preallocated temp file; sha256 follows the ranges in
# order, reading them back from the page cache, so hashing overlaps the transfer. One GET stream
# reached 300-380 MB/s here; benchmarks/raw_parallel.py measures what parallel ranges reach (16 MiB x 8
# was its best shape in two runs; 2 x 128 MiB took 1.71 s against 1.96 s with 8 MiB x 4, medians of 4).
PARALLEL_FROM = 32 * 1024 * 1024
RANGE_BYTES = 16 * 1024 * 1024
RANGE_STREAMS = 8
RPC_TIMEOUT = 60.0


async def fetch_direct(
    stub: BlobStub, f: FileInfo, sink: Sink, address: str, progress: NullProgress, state: DirectState
) -> bool:
    """Reads f into sink from object storage; False (with what arrived kept in sink) if the caller
    should go on with DownloadBlob."""
    if state.off or f.size < DIRECT_FROM:
        return False
    where = await _url(stub, f.digest, address)
    if where is None:
        state.off = True
        return False
    if where.digest != f.digest or where.size != f.size:
        return False  # a composite (left out), or an answer about some other blob: not ours to read
    for attempt in range(RETRY_ATTEMPTS):
        stop = threading.Event()
        try:
            parallel = f.size >= PARALLEL_FROM and sink.tee is None and isinstance(sink, Sink)
            status = await asyncio.to_thread(_get_parallel if parallel else _get_blocking, where, sink, progress, stop)
        except OSError as exc:  # refused, reset, timed out, unknown host: resume from what arrived
            if attempt + 1 < RETRY_ATTEMPTS:
                await asyncio.sleep(retry_delay(attempt))
                continue
            log.warning("object storage unreachable for direct downloads (%s); reading through the gateway", exc)
            state.off = True
            return False
        finally:
            stop.set()  # cancelled: the thread stops at its next block
        if sink.received == f.size:
            return True
        if status >= 500 and attempt + 1 < RETRY_ATTEMPTS:
            await asyncio.sleep(retry_delay(attempt))
            continue
        return False  # expired URL (403), object moved by a repack (404), ...: the gateway knows better
    return False


async def _url(stub: BlobStub, digest: str, address: str) -> bpb.DownloadUrl | None:
    req = bpb.GetDownloadUrlsRequest(digests=[digest])
    resp = await call_if_offered(stub.GetDownloadUrls, req, address, RPC_TIMEOUT, Retry.of(stub))
    if resp is None:
        return None
    return resp.urls[0] if resp.urls else bpb.DownloadUrl()


def _get_blocking(where: bpb.DownloadUrl, sink: Sink, progress: NullProgress, stop: threading.Event) -> int:
    """GETs the rest of the blob (from sink.received) into sink; returns the HTTP status. Bytes are
    only taken from a 206 answer for exactly the range asked."""
    start, end = where.offset + sink.received, where.offset + where.size - 1
    conn, target = connect(where.url)
    try:
        conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
        resp = conn.getresponse()
        if resp.status != 206 or not resp.getheader("Content-Range", "").startswith(f"bytes {start}-{end}/"):
            resp.read(4096)
            return resp.status if resp.status != 200 else 502  # a 200 would be the whole object
        # Never more than the blob's size: each read asks at most for what is left of it.
        while sink.received < where.size and (chunk := resp.read(min(READ_BLOCK, where.size - sink.received))):
            if stop.is_set():
                raise OSError("download cancelled")
            sink.add_sync(chunk)
            progress.advance(len(chunk))
        return resp.status
    finally:
        conn.close()


def _get_parallel(where: bpb.DownloadUrl, sink: Sink, progress: NullProgress, stop: threading.Event) -> int:
    """GETs the rest of the blob (from sink.received) as parallel ranges written at their offsets;
    returns 206 once every byte is in and hashed, else the first failing status (or raises the
    first OSError). Whatever did not arrive in order is cut off again (sink.rewind), so the caller
    resumes from sink.received as after a single stream."""
    # Our own descriptor: a cancelled download closes the sink's file while these threads may still
    # write, and a reused descriptor number must never receive a stray pwrite.
    fd = os.dup(sink.positional(where.size))
    ranges = [(off, min(RANGE_BYTES, where.size - off)) for off in range(sink.received, where.size, RANGE_BYTES)]
    pool = ThreadPoolExecutor(min(RANGE_STREAMS, len(ranges)), thread_name_prefix="arkive-range")
    try:
        futures: list[Future[int]] = [pool.submit(_get_range, where, fd, off, n, progress, stop) for off, n in ranges]
        for (off, n), fut in zip(ranges, futures, strict=True):
            status = fut.result()
            if status != 206:
                return status
            while n:  # sha256 in order, from the page cache, while later ranges still arrive
                block = os.pread(fd, min(READ_BLOCK, n), off)
                if not block:
                    raise OSError(f"temp file shorter than the bytes written at {off}")
                sink.absorb(block)
                off, n = off + len(block), n - len(block)
        return 206
    finally:
        stop.set()  # the ranges not started yet return at once; running ones stop at their next block
        pool.shutdown(wait=True, cancel_futures=True)
        os.close(fd)
        if sink.received < where.size:
            sink.rewind()


def _get_range(
    where: bpb.DownloadUrl, fd: int, offset: int, length: int, progress: NullProgress, stop: threading.Event
) -> int:
    """One range of the blob written at its offset; the HTTP status (206 when it all arrived)."""
    if stop.is_set():
        return 499  # another range failed or the download was cancelled: not worth starting
    start, end = where.offset + offset, where.offset + offset + length - 1
    conn, target = connect(where.url)
    try:
        conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
        resp = conn.getresponse()
        if resp.status != 206 or not resp.getheader("Content-Range", "").startswith(f"bytes {start}-{end}/"):
            resp.read(4096)
            return resp.status if resp.status not in (200, 206) else 502  # a 200 would be the whole object
        done = 0
        while done < length and (chunk := resp.read(min(READ_BLOCK, length - done))):
            if stop.is_set():
                raise OSError("download cancelled")
            os.pwrite(fd, chunk, offset + done)
            done += len(chunk)
            progress.advance(len(chunk))
        return 206 if done == length else 502
    finally:
        conn.close()
