"""The hand-encoded UploadBlobs requests parse, with the generated code, into the same message."""

from __future__ import annotations

import hashlib
import os

import pytest

from arkive.engine.wire import chunk_request, inline_blobs_request, varint
from arkive_proto.v1 import blob_service_pb2 as bpb


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("sizes", [[0], [1], [127, 128, 16383, 16384], [16 * 1024] * 64, [1 << 20], [5, 0, 300]])
def test_inline_blobs_request_parses_as_the_generated_message(sizes: list[int]) -> None:
    blobs = [os.urandom(n) for n in sizes]
    encoded = inline_blobs_request([(digest(b), b) for b in blobs])
    expected = bpb.UploadBlobsRequest(
        blobs=bpb.InlineBlobs(blobs=[bpb.InlineBlob(digest=digest(b), size=len(b), data=b) for b in blobs])
    )
    parsed = bpb.UploadBlobsRequest.FromString(encoded)
    assert parsed == expected
    assert parsed.WhichOneof("payload") == "blobs"
    assert [(b.digest, b.size, b.data) for b in parsed.blobs.blobs] == [(digest(b), len(b), b) for b in blobs]


def test_varint_matches_protobuf() -> None:
    assert varint(0) == b"\x00"  # proto3 leaves a zero out, but it is valid when present
    for n in (1, 127, 128, 300, 16384, 2**31, 2**63 - 1):
        msg = bpb.InlineBlob(size=n)
        assert msg.SerializeToString() == b"\x10" + varint(n)


@pytest.mark.parametrize("size", [0, 1, 1000, 1 << 20])
def test_chunk_request_parses_as_the_generated_message(size: int) -> None:
    data = os.urandom(size)
    parsed = bpb.UploadBlobRequest.FromString(chunk_request(data))
    assert parsed.WhichOneof("payload") == "chunk" and parsed.chunk == data
