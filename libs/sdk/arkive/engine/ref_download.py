"""Downloading reference entries: s3:// and http(s):// through the gateway's DownloadReference
(resumable), file:// read again on this machine; each verified and renamed into place atomically
by the same Sink and path checks as blob downloads, never outside the destination root.

What can be verified depends on what the version recorded (see download_references).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
from arkive_core.errors import FailedPrecondition

from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rgrpc

from .._rpc import Retry, default_retry_deadline
from .files import CHUNK_SIZE
from .place import new_file_mode, prepare_destination
from .progress import NullProgress
from .references import Reference, ReferenceFile, local_path
from .sink import Sink, receive_stream
from .statcache import StatCache
from .transfer import run_bounded
from .types import DownloadResult, FileInfo

CONCURRENCY = 4


@dataclass
class RefTotals:
    written: int = 0
    nbytes: int = 0  # bytes written
    skipped: int = 0  # already in place (verified by sha256)
    downloaded: int = 0  # bytes received from the gateway (resumed streams count each byte once)

    def add_to(self, result: DownloadResult) -> DownloadResult:
        """The blob download's result with these counted in."""
        return replace(
            result,
            files_written=result.files_written + self.written,
            bytes_written=result.bytes_written + self.nbytes,
            files_skipped=result.files_skipped + self.skipped,
            bytes_downloaded=result.bytes_downloaded + self.downloaded,
        )


def expected_size(f: ReferenceFile) -> int | None:
    """The size the source must have, or None when the version did not record one.

    An HTTP source with an ETag but no Content-Length was recorded with size 0: unknown, not empty.
    """
    r = f.reference
    return f.size if r.checksum and (f.size or not r.etag) else None


def resumable(r: Reference) -> bool:
    """Whether bytes from two requests are sure to be of one content, so a dropped stream may
    continue at an offset: only when every request is pinned to the recorded content (an S3
    version id, or a strong ETag the gateway sends as If-Match and compares). Otherwise a resume
    could splice two versions of a source that changed in between; the stream starts over."""
    return r.checksum and bool(r.version_id or (r.etag and not r.etag.startswith("W/")))


class _RefSink(Sink):
    """A Sink that checks what the reference recorded and calls a mismatch "source changed"."""

    def check(self, f: FileInfo) -> None:
        assert isinstance(f, ReferenceFile)
        r, size = f.reference, expected_size(f)
        if not r.checksum:
            return  # logged with checksum=False: whatever the source holds now
        if size is not None and self.received != size:
            raise FailedPrecondition(f"source changed: {r.uri} gave {self.received} bytes, not {size}")
        if f.digest and self.digest != f.digest:
            raise FailedPrecondition(f"source changed: {r.uri} no longer has sha256 {f.digest}")


async def download_references(
    channel: grpc.aio.Channel,
    version_ref: str,
    root: Path,
    refs: list[ReferenceFile],
    address: str,
    progress: NullProgress | None = None,
    retry_deadline: float | None = None,
) -> RefTotals:
    """Writes reference entries under root (paths checked by the caller's check_layout).

    An entry that recorded a sha256 (file:// references logged with checksum) is skipped when the
    destination already has that size and sha256 (the stat cache spares re-reading unchanged
    files), without reading the source again. s3:// and http(s):// entries record an ETag, S3
    version id and size but no sha256 (only the source knows their bytes), and checksum=False
    entries record nothing: no local file can be proven to hold their content, so they are always
    fetched (and verified against the source as far as it was recorded). Dropped gateway streams
    resume at the last byte received when the source is pinned (see resumable), else start over.
    """
    progress = progress or NullProgress()
    real_root = await asyncio.to_thread(root.resolve)
    mode = new_file_mode()
    stats = StatCache.open_default()
    totals = RefTotals()
    progress.phase("references", sum(f.size for f in refs))

    async def one(f: ReferenceFile) -> None:
        dest, in_place = await asyncio.to_thread(prepare_destination, real_root, f, stats)
        if in_place:
            totals.skipped += 1
            progress.advance(f.size)
            return
        sink = _RefSink(dest)
        try:
            if f.reference.uri.startswith("file://"):
                await asyncio.to_thread(_read_local, f, sink, progress)
            else:
                await _fetch(channel, version_ref, f, sink, address, progress, retry_deadline)
                totals.downloaded += sink.received
            await asyncio.to_thread(sink.finish, real_root, f, mode)
        finally:
            sink.discard()  # no-op after a successful rename
        totals.written += 1
        totals.nbytes += sink.received

    try:
        await run_bounded(refs, one, CONCURRENCY)
    finally:
        if stats is not None:
            stats.close()
    return totals


def _read_local(f: ReferenceFile, sink: _RefSink, progress: NullProgress) -> None:
    """file:// reference: reads the local source into sink (blocking); finish verifies the sha256."""
    src, size = local_path(f.reference.uri), expected_size(f)
    try:
        with open(src, "rb") as inp:
            while chunk := inp.read(CHUNK_SIZE):
                sink.add_sync(chunk)
                progress.advance(len(chunk))
                if size is not None and sink.received > size:
                    break  # grew: no need to read the rest to know it changed
    except FileNotFoundError:
        raise FailedPrecondition(f"source changed: {src} no longer exists") from None


async def _fetch(
    channel: grpc.aio.Channel,
    version_ref: str,
    f: ReferenceFile,
    sink: _RefSink,
    address: str,
    progress: NullProgress,
    retry_deadline: float | None,
) -> None:
    stub = rgrpc.ReferenceServiceStub(channel)
    retry = Retry(default_retry_deadline() if retry_deadline is None else retry_deadline, channel)

    def open_call(offset: int) -> object:
        request = rpb.DownloadReferenceRequest(ref=version_ref, path=f.path, offset=offset)
        return stub.DownloadReference(request)

    size, resume = expected_size(f), resumable(f.reference)
    await receive_stream(open_call, sink, size, f.path, address, progress, resumable=resume, retry=retry)
