"""Upload requests parsed without copying their bytes.

The generated parser copies every chunk and inline blob into the message, and reading the field
copies it again; on this path that was most of the gateway's event-loop time per byte. These
deserializers read the two shapes the SDK sends (UploadBlobRequest{chunk} and UploadBlobsRequest
{blobs: InlineBlobs}) as memoryviews into the received message, and leave every other shape to
the generated parser, so any conforming client still works. The bytes are verified by sha256 as
before: nothing here trusts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arkive_proto.v1 import blob_service_pb2 as pb

_CHUNK = 2 << 3 | 2  # UploadBlobRequest.chunk
_BLOBS = 3 << 3 | 2  # UploadBlobsRequest.blobs
_INLINE = 1 << 3 | 2  # InlineBlobs.blobs
_DIGEST, _SIZE, _DATA = 1 << 3 | 2, 2 << 3, 3 << 3 | 2  # InlineBlob fields


def _varint(buf: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[at]
        at += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


@dataclass(frozen=True, slots=True)
class ChunkRequest:
    """UploadBlobRequest{chunk}: the chunk is a view into the received message."""

    chunk: memoryview

    def WhichOneof(self, _: str) -> str:
        return "chunk"


@dataclass(frozen=True, slots=True)
class InlineBlob:
    digest: str
    size: int
    data: memoryview


@dataclass(frozen=True, slots=True)
class _InlineBlobs:
    blobs: list[InlineBlob]


@dataclass(frozen=True, slots=True)
class InlineBlobsRequest:
    """UploadBlobsRequest{blobs}: each blob's data is a view into the received message."""

    blobs: _InlineBlobs

    def WhichOneof(self, _: str) -> str:
        return "blobs"


def upload_blob_request(data: bytes) -> Any:
    buf = memoryview(data)
    if len(buf) > 1 and buf[0] == _CHUNK:
        n, at = _varint(buf, 1)
        if at + n == len(buf):
            return ChunkRequest(buf[at:])
    return pb.UploadBlobRequest.FromString(data)


def upload_blobs_request(data: bytes) -> Any:
    buf = memoryview(data)
    try:
        if len(buf) > 1 and buf[0] == _BLOBS:
            n, at = _varint(buf, 1)
            if at + n == len(buf):
                return InlineBlobsRequest(_InlineBlobs(_inline_blobs(buf, at, len(buf))))
    except (ValueError, IndexError, UnicodeDecodeError):
        pass  # not the shape the SDK sends: the generated parser decides (and reports errors)
    return pb.UploadBlobsRequest.FromString(data)


def _inline_blobs(buf: memoryview, at: int, end: int) -> list[InlineBlob]:
    out: list[InlineBlob] = []
    while at < end:
        if buf[at] != _INLINE:
            raise ValueError("unexpected field")
        n, at = _varint(buf, at + 1)
        out.append(_inline_blob(buf, at, at + n))
        at += n
    if at != end:
        raise ValueError("truncated")
    return out


def _inline_blob(buf: memoryview, at: int, end: int) -> InlineBlob:
    digest, size, data = "", 0, buf[0:0]
    while at < end:
        tag = buf[at]
        if tag == _SIZE:
            size, at = _varint(buf, at + 1)
            continue
        if tag not in (_DIGEST, _DATA):
            raise ValueError("unexpected field")
        n, at = _varint(buf, at + 1)
        if at + n > end:
            raise ValueError("truncated")
        if tag == _DIGEST:
            digest = bytes(buf[at : at + n]).decode()
        else:
            data = buf[at : at + n]
        at += n
    return InlineBlob(digest, size, data)


# Registered with malformed.GuardedRegistration, which also turns their errors into INVALID_ARGUMENT.
BLOB_DESERIALIZERS = {"UploadBlob": upload_blob_request, "UploadBlobs": upload_blobs_request}
