"""UploadBlobs messages of inline blobs, encoded straight into protobuf's wire format.

Large files' chunks (UploadBlobRequest.chunk) are encoded the same way.

Building them as messages copies every blob's bytes three times (into the InlineBlob, into the
InlineBlobs that takes it, into the request) before serialization copies them a fourth time; for a
folder of small files that was the client's largest CPU cost (about 0.12 s per 32 MiB here). Here
each byte is copied once, by one join per message. The encoding is that of UploadBlobsRequest
{blobs: InlineBlobs {blobs: [InlineBlob {digest, size, data}]}} (proto/arkive/v1/blob_service.proto);
tests parse it back with the generated code.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import blob_service_pb2_grpc as bgrpc

UPLOAD_BLOBS = "/arkive.v1.BlobService/UploadBlobs"
UPLOAD_BLOB = "/arkive.v1.BlobService/UploadBlob"
_LEN = 2  # wire type of strings, bytes and messages
_REQUEST_BLOBS = bytes([3 << 3 | _LEN])  # UploadBlobsRequest.blobs = 3
_INLINE_BLOBS_BLOBS = bytes([1 << 3 | _LEN])  # InlineBlobs.blobs = 1
_DIGEST = bytes([1 << 3 | _LEN])  # InlineBlob.digest = 1
_SIZE = bytes([2 << 3])  # InlineBlob.size = 2 (varint)
_DATA = bytes([3 << 3 | _LEN])  # InlineBlob.data = 3
_CHUNK = bytes([2 << 3 | _LEN])  # UploadBlobRequest.chunk = 2


def varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def inline_blobs_request(blobs: Sequence[tuple[str, bytes]]) -> bytes:
    """One serialized UploadBlobsRequest carrying (digest, data) pairs as InlineBlobs."""
    parts: list[bytes] = []
    for digest, data in blobs:
        d = digest.encode()
        head = _DIGEST + varint(len(d)) + d + _SIZE + varint(len(data)) + _DATA + varint(len(data))
        parts += (_INLINE_BLOBS_BLOBS + varint(len(head) + len(data)) + head, data)
    body = sum(len(p) for p in parts)
    return b"".join([_REQUEST_BLOBS, varint(body), *parts])


def chunk_request(chunk: bytes) -> bytes:
    """One serialized UploadBlobRequest carrying a chunk of a large file (one copy of the bytes)."""
    return b"".join([_CHUNK, varint(len(chunk)), chunk])


class BlobStub(bgrpc.BlobServiceStub):
    """The generated BlobService stub, plus UploadBlobsEncoded and UploadBlobEncoded: the upload
    calls taking requests that are already serialized (bytes pass through gRPC as they are)."""

    def __init__(self, channel: grpc.aio.Channel, retry_deadline: float | None = None) -> None:
        super().__init__(channel)
        # What the transfer helpers that get only this stub need for their retries (_rpc.Retry.of).
        self.channel = channel
        self.retry_deadline = retry_deadline
        self.UploadBlobsEncoded = channel.stream_unary(
            UPLOAD_BLOBS, response_deserializer=bpb.UploadBlobsResponse.FromString
        )
        self.UploadBlobEncoded = channel.stream_unary(
            UPLOAD_BLOB, response_deserializer=bpb.UploadBlobResponse.FromString
        )
