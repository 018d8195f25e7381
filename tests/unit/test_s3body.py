"""BufferBody: a BytesIO over the caller's buffer, never copied, that reads and seeks as BytesIO."""

from __future__ import annotations

import io
import os

import pytest

from arkive_common.s3body import BufferBody


def test_reads_seeks_and_tells_like_bytesio() -> None:
    data = os.urandom(1000)
    ours, ref = BufferBody(bytearray(data)), io.BytesIO(data)
    for step in (0, 1, 7, 256, 300, 1000, 5):
        assert bytes(ours.read(step)) == ref.read(step)
        assert ours.tell() == ref.tell()
    assert bytes(ours.read()) == ref.read() == b""
    for offset, whence in ((0, os.SEEK_SET), (-10, os.SEEK_END), (3, os.SEEK_CUR), (2000, os.SEEK_SET)):
        assert ours.seek(offset, whence) == ref.seek(offset, whence)
        assert bytes(ours.read(20)) == ref.read(20)
    ours.seek(0)
    assert bytes(ours.read(None)) == data
    with pytest.raises(ValueError):
        ours.seek(-1)


def test_does_not_copy_and_reports_its_size_through_getbuffer() -> None:
    buf = bytearray(b"abcdef")
    body = BufferBody(buf)
    piece = body.read(3)
    assert isinstance(piece, memoryview) and piece.obj is buf  # a view of the caller's buffer
    with body.getbuffer() as whole:  # what aiohttp's BytesIOPayload measures the body with
        assert len(whole) - body.tell() == 3
    assert body.getvalue() == b"abcdef"
    out = bytearray(10)
    assert body.readinto(out) == 3 and out[:3] == b"def"


def test_is_read_only() -> None:
    body = BufferBody(b"abc")
    assert body.readable() and body.seekable() and not body.writable()
    with pytest.raises(io.UnsupportedOperation):
        body.write(b"x")
    with pytest.raises(io.UnsupportedOperation):
        body.truncate(0)
    assert bytes(body.read()) == b"abc"
