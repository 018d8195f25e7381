"""Where a downloaded file's bytes go on their way into place, and the resumable stream that feeds
them; shared by blob downloads (_download.py, _download_batch.py) and reference downloads
(_ref_download.py).

A Sink collects a file in memory while small and spills to a temp file next to its destination
once it passes 1 MiB, hashing on the way; it is renamed into place only once verified.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import grpc
from arkive_core.errors import ArkiveError, Code, DataLoss, FailedPrecondition

from .._rpc import Retry
from .cache import CacheWriter
from .files import CHUNK_SIZE
from .paths import safe_destination
from .progress import NullProgress
from .types import FileInfo

SPILL_BYTES = CHUNK_SIZE


class ChunkSink(Protocol):
    """What receive_stream writes into: a Sink, or an open zip entry (_zip._EntrySink)."""

    received: int

    async def add(self, chunk: bytes) -> None: ...


class Sink:
    """One file on its way to dest: a memory buffer, spilled to a temp file when it grows large."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.tee: CacheWriter | None = None
        self._start()

    def _start(self) -> None:
        self.received = 0
        self._buf = bytearray()
        self._out: BinaryIO | None = None
        self._tmp: str | None = None
        self._hash = hashlib.sha256()

    def add_sync(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self._write(chunk)

    async def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self._out is None and len(self._buf) + len(chunk) <= SPILL_BYTES:
            self._buf += chunk
        else:
            await asyncio.to_thread(self._write, chunk)

    def _write(self, chunk: bytes | bytearray) -> None:
        if self._out is None:
            fd, self._tmp = tempfile.mkstemp(dir=self.dest.parent, prefix=".arkive-", suffix=".part")
            self._out = os.fdopen(fd, "wb")
        if self._buf:
            buf, self._buf = self._buf, bytearray()
            self._write(buf)
        self._out.write(chunk)
        self._hash.update(chunk)
        if self.tee is not None:
            self.tee.write(chunk)

    def positional(self, size: int) -> int:
        """The temp file's descriptor for writes at offsets (a parallel ranged download), the file
        preallocated to size. The bytes count as received only once handed to absorb() in order;
        rewind() drops whatever was written past them."""
        if self._out is None or self._buf:
            self._write(b"")
        assert self._out is not None
        self._out.flush()
        fd = self._out.fileno()
        try:
            os.posix_fallocate(fd, 0, size)  # one extent instead of growing range by range
        except (OSError, AttributeError):
            pass  # not supported here: the writes grow the file as usual
        return fd

    def absorb(self, data: bytes) -> None:
        """The next bytes in order, already written at their offset by positional writes: hashed
        and counted (tee'd sinks never write positionally)."""
        assert self.tee is None
        self._hash.update(data)
        self.received += len(data)

    def rewind(self) -> None:
        """Cuts the temp file back to the bytes received in order (after positional writes that did
        not all arrive), so that a stream can append from there."""
        if self._out is not None and not self._out.closed:  # closed: the download was cancelled
            self._out.seek(self.received)
            self._out.truncate()

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def check(self, f: FileInfo) -> None:
        """Raises unless what was received is f (size and sha256); subclasses verify otherwise."""
        if self.received != f.size or self.digest != f.digest:
            raise DataLoss(f"download of {f.path!r} is corrupt (size or sha256 mismatch)", digests=[f.digest])

    def finish(self, real_root: Path, f: FileInfo, mode: int) -> None:
        """Verifies and renames into place (blocking: run in a thread)."""
        if self._out is None or self._buf:
            self._write(b"")
        assert self._out is not None and self._tmp is not None
        self._out.close()
        self.check(f)
        os.chmod(self._tmp, mode)
        safe_destination(real_root, f.path)  # again: the tree may have changed while receiving
        try:
            os.replace(self._tmp, self.dest)
        except IsADirectoryError:
            raise FailedPrecondition(f"cannot write {f.path!r}: a folder is in the way") from None
        self._tmp = None

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass

    def reset(self) -> None:
        """Forgets everything received (blocking): for a stream that must start over. Never used
        with a tee (blob streams always resume; a cache entry cannot be taken back)."""
        assert self.tee is None
        self.discard()
        self._start()


async def receive_stream(
    open_call: Callable[[int], Any],
    sink: ChunkSink,
    limit: int | None,
    name: str,
    address: str,
    progress: NullProgress,
    *,
    resumable: bool = True,
    retry: Retry,
) -> None:
    """Streams a file into sink; after a dropped connection (UNAVAILABLE) asks again from the last
    byte received (open_call(offset) opens the stream, once retry.connect() saw the channel
    connected), or from 0 when not resumable, within the retry deadline.

    limit: the most bytes the file may have (None: unknown), so a server cannot fill the disk.
    """
    while True:
        await retry.connect(address)
        call = open_call(sink.received)
        try:
            async for resp in call:
                if limit is not None and sink.received + len(resp.chunk) > limit:
                    raise ArkiveError(f"server sent more than {limit} bytes for {name!r}", Code.INTERNAL)
                await sink.add(resp.chunk)
                progress.advance(len(resp.chunk))
            return
        except grpc.aio.AioRpcError as exc:
            dropped = exc.code() == grpc.StatusCode.UNAVAILABLE
            if dropped and resumable and limit is not None and sink.received == limit:
                return  # every byte is here (only the end of the stream was lost); finish verifies
            if not dropped or not await retry.pause(exc):
                raise retry.error(exc, address) from None
            if not resumable:
                if not isinstance(sink, Sink):  # only a Sink can start over (zip entries' blob streams resume)
                    raise retry.error(exc, address) from None
                progress.advance(-sink.received)
                await asyncio.to_thread(sink.reset)
        finally:
            if not call.done():
                call.cancel()
