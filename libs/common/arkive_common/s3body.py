"""A request body that aiobotocore sends without copying it.

Given a bytes or bytearray body, aiohttp (on Python < 3.12.9, where it cannot use
transport.writelines) joins the HTTP headers with the whole body into a new bytes object, and
asyncio's transport then copies the part the socket did not take at once (data[n:], then into its
own buffer): three copies of every byte on top of the one that made the body. On the gateway that
was about half of its CPU time for a large upload (py-spy: memcpy into freshly mapped pages).

A BytesIO is read by aiohttp in 256 KiB pieces, each written and drained before the next; this one
hands out memoryview slices of the caller's buffer, so a piece goes from that buffer to the socket
and at most the unsent rest of one piece is copied.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer as AnyBuffer  # collections.abc.Buffer from Python 3.12

Buffer = bytes | bytearray | memoryview


class BufferBody(io.BytesIO):
    """A read-only, seekable BytesIO over an existing buffer (not copied; keep it unchanged).

    read() returns memoryview slices, not bytes: give it only to code that takes any buffer (the
    S3 client's request body). botocore seeks it back to the start when it retries a request.
    """

    def __init__(self, data: Buffer) -> None:
        super().__init__()
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def getbuffer(self) -> memoryview:
        return self._view[:]

    def getvalue(self) -> bytes:
        return self._view.tobytes()

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> memoryview:  # type: ignore[override]
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        start = min(self._pos, end)
        self._pos = max(self._pos, end)
        return self._view[start:end]

    read1 = read  # type: ignore[assignment]  # memoryview slices too, as read() (see the class docstring)

    def readinto(self, b: AnyBuffer) -> int:
        out = memoryview(b).cast("B")
        piece = self.read(len(out))
        out[: len(piece)] = piece
        return len(piece)

    def write(self, b: AnyBuffer) -> int:
        raise io.UnsupportedOperation("BufferBody is read-only")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("BufferBody is read-only")

    def writable(self) -> bool:
        return False
