"""The gateway's copy-free upload parsers agree with the generated ones on every shape."""

from __future__ import annotations

import hashlib
import os

import pytest
from google.protobuf.message import DecodeError

from arkive_gateway.wire import ChunkRequest, InlineBlobsRequest, upload_blob_request, upload_blobs_request
from arkive_proto.v1 import blob_service_pb2 as pb


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("sizes", [[0], [1, 0, 2], [127, 128, 16384], [1 << 20]])
def test_inline_blobs_are_views_equal_to_the_generated_parse(sizes: list[int]) -> None:
    blobs = [os.urandom(n) for n in sizes]
    msg = pb.UploadBlobsRequest(
        blobs=pb.InlineBlobs(blobs=[pb.InlineBlob(digest=digest(b), size=len(b), data=b) for b in blobs])
    )
    parsed = upload_blobs_request(msg.SerializeToString())
    assert isinstance(parsed, InlineBlobsRequest) and parsed.WhichOneof("payload") == "blobs"
    assert [(b.digest, b.size, bytes(b.data)) for b in parsed.blobs.blobs] == [(digest(b), len(b), b) for b in blobs]


def test_other_upload_blobs_shapes_go_to_the_generated_parser() -> None:
    header = pb.UploadBlobsRequest(header=pb.UploadBlobHeader(digest=digest(b"x"), size=1))
    chunk = pb.UploadBlobsRequest(chunk=b"abc")
    for msg in (header, chunk, pb.UploadBlobsRequest()):
        assert upload_blobs_request(msg.SerializeToString()) == msg
    # A field the fast path does not know (an InlineBlob field 9) still parses as protobuf does.
    odd = b"\x1a\x07\x0a\x05\x4a\x03abc"
    assert upload_blobs_request(odd) == pb.UploadBlobsRequest.FromString(odd)


@pytest.mark.parametrize("junk", [b"\x1a\x05\x0a\x10abc", b"\x1a\xff", b"\x12\x09abc"])
def test_truncated_messages_are_refused_like_the_generated_parser_does(junk: bytes) -> None:
    with pytest.raises(DecodeError):
        pb.UploadBlobsRequest.FromString(junk)
    with pytest.raises(DecodeError):
        upload_blobs_request(junk)


def test_chunks_are_views_and_headers_parse_normally() -> None:
    data = os.urandom(1 << 20)
    parsed = upload_blob_request(pb.UploadBlobRequest(chunk=data).SerializeToString())
    assert isinstance(parsed, ChunkRequest) and parsed.WhichOneof("payload") == "chunk"
    assert bytes(parsed.chunk) == data
    header = pb.UploadBlobRequest(header=pb.UploadBlobHeader(digest=digest(data), size=len(data)))
    assert upload_blob_request(header.SerializeToString()) == header
    with pytest.raises(DecodeError):
        upload_blob_request(b"\x12\x05ab")  # shorter than it says: the generated parser refuses it
