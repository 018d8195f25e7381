"""Bytes that are not a protobuf message get INVALID_ARGUMENT from every RPC of every service.

The methods come from the proto descriptors, so an RPC added later is covered too. Each call
sends raw bytes (no client-side serializer); each garbage input is first checked to be refused
by the generated parser of that method's request type, so no case passes by parsing.
"""

from __future__ import annotations

import importlib
import pkgutil

import grpc
import pytest
from arkive_core.credentials import api_key
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass
from support import assert_eventually

import arkive_proto.v1
from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import blob_service_pb2 as bpb

GARBAGE = {
    "truncated_varint": b"\xff",
    "length_overrun": b"\x0a\x05ab",
    "bad_wire_type": b"\x0f\x01",
}


def all_methods() -> list:
    methods = []
    for info in pkgutil.iter_modules(arkive_proto.v1.__path__):
        if info.name.endswith("_service_pb2"):
            module = importlib.import_module(f"arkive_proto.v1.{info.name}")
            for service in module.DESCRIPTOR.services_by_name.values():
                methods.extend(service.methods)
    return methods


METHODS = all_methods()


async def call_raw(channel: grpc.aio.Channel, method, messages: list[bytes]) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.client_streaming:
            if method.server_streaming:
                async for _ in channel.stream_stream(path)(iter(messages)):
                    pass
            else:
                await channel.stream_unary(path)(iter(messages))
        elif method.server_streaming:
            async for _ in channel.unary_stream(path)(messages[0]):
                pass
        else:
            await channel.unary_unary(path)(messages[0])
    except grpc.aio.AioRpcError as exc:
        assert "Traceback" not in (exc.details() or "")
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


def test_the_proto_has_the_services_and_the_garbage_does_not_parse():
    names = {m.containing_service.name for m in METHODS}
    assert {"ArtifactService", "BlobService", "CatalogService", "LineageService"} <= names
    assert len(METHODS) > 40
    for method in METHODS:
        cls = GetMessageClass(method.input_type)
        for data in GARBAGE.values():
            with pytest.raises(DecodeError):
                cls.FromString(data)


async def test_every_rpc_answers_garbage_with_invalid_argument_and_one_log_line(stack):
    log_path = stack.config.logs / "gateway.log"
    start = log_path.stat().st_size
    wrong = []
    async with grpc.aio.insecure_channel(stack.gateway_addr, interceptors=bearer_interceptors(api_key())) as channel:
        for method in METHODS:
            for case, data in GARBAGE.items():
                code, details = await call_raw(channel, method, [data])
                if code != grpc.StatusCode.INVALID_ARGUMENT or "malformed request" not in details:
                    wrong.append((method.full_name, case, code, details))
    assert not wrong, wrong
    calls = len(METHODS) * len(GARBAGE)

    def logged() -> str:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            f.seek(start)
            text = f.read()
        assert text.count("malformed request to ") == calls
        return text

    text = await assert_eventually(logged)
    assert "Traceback" not in text


async def test_a_bad_message_later_in_an_upload_stream_is_refused(stack):
    log_path = stack.config.logs / "gateway.log"
    start = log_path.stat().st_size
    method = bpb.DESCRIPTOR.services_by_name["BlobService"].methods_by_name["UploadBlob"]
    good = bpb.UploadBlobRequest(header=bpb.UploadBlobHeader(digest="sha256:" + "0" * 64, size=3))
    wrong = bpb.UploadBlobRequest(header=bpb.UploadBlobHeader(digest="sha256:nothex", size=3))
    async with grpc.aio.insecure_channel(stack.gateway_addr, interceptors=bearer_interceptors(api_key())) as channel:
        code, details = await call_raw(channel, method, [good.SerializeToString(), GARBAGE["length_overrun"]])
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
        assert "arkive.v1.BlobService.UploadBlob" in details
        # Refused for its header first: the garbage after it is drained, the header's error stands.
        code, details = await call_raw(channel, method, [wrong.SerializeToString(), GARBAGE["length_overrun"]])
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "invalid digest" in details, (code, details)

    def logged() -> str:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            f.seek(start)
            text = f.read()
        assert text.count("malformed request to ") >= 1
        return text

    assert "Traceback" not in await assert_eventually(logged)
