"""Every unary RPC of the proto descriptors, with every field set to an extreme value, answers
with a status that names the problem: never INTERNAL, UNKNOWN, a timeout, or grpc's own
RESOURCE_EXHAUSTED for a status message too long for its trailer (a refusal that echoed a 300 KB
value back used to end that way)."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from .rawgrpc import Raw, unique
from .test_malformed_requests import METHODS

# Whole-system effects (projection rebuilds, garbage collection) are not for a shared test stack.
SKIP = {"RebuildProjections", "CollectGarbage", "ApplyRetention", "GetStorageReport", "GetBlobStats", "ScrubBlobs"}
MODES = ("nul", "long", "max", "min")
NOT_AN_ANSWER = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def plausible(name: str, project: str) -> str:
    """A valid value for the fields that select something, so that the numbers are reached."""
    return {
        "project": project,
        "name": "ds",
        "ref": f"{project}/ds:v0",
        "digest": "sha256:" + "0" * 64,
        "run_id": uuid.uuid4().hex,
        "draft_id": str(uuid.uuid4()),
        "type": "dataset",
    }.get(name, "ok")


def scalar(field, mode: str, project: str):
    if field.type == F.TYPE_STRING:
        return {"nul": "a\x00b", "long": "x" * 300_000}.get(mode) or plausible(field.name, project)
    if field.type in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64):
        return -(2**63) if mode == "min" else 2**63 - 1
    if field.type in (F.TYPE_INT32, F.TYPE_SINT32):
        return -(2**31) if mode == "min" else 2**31 - 1
    if field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return float("-inf") if mode == "min" else float("nan")
    if field.type == F.TYPE_BOOL:
        return True
    if field.type == F.TYPE_ENUM:
        return 99  # not a defined value
    if field.type == F.TYPE_BYTES:
        return b"\xff"
    return None


def fill(msg: Message, mode: str, project: str) -> Message:
    for field in msg.DESCRIPTOR.fields:
        if field.message_type is not None:
            if field.message_type.full_name == "google.protobuf.Timestamp" and not field.is_repeated:
                getattr(msg, field.name).seconds = -62135596800 if mode == "min" else 253402300799
            elif field.message_type.GetOptions().map_entry:
                continue
            elif field.is_repeated:
                fill(getattr(msg, field.name).add(), mode, project)
            else:
                fill(getattr(msg, field.name), mode, project)
            continue
        value = scalar(field, mode, project)
        if value is None:
            continue
        if field.is_repeated:
            getattr(msg, field.name).append(value)
        else:
            setattr(msg, field.name, value)
    return msg


async def status_of(channel: grpc.aio.Channel, method, request: Message) -> tuple[grpc.StatusCode, str]:
    path = f"/{method.containing_service.full_name}/{method.name}"
    serialize = Message.SerializeToString
    try:
        if method.server_streaming:
            async for _ in channel.unary_stream(path, request_serializer=serialize)(request, timeout=40):
                pass
        else:
            await channel.unary_unary(path, request_serializer=serialize)(request, timeout=40)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


async def test_extreme_field_values_never_end_as_internal_errors(stack):
    raw = Raw(stack.gateway_addr)
    try:
        project = unique()
        await raw.log(project, "ds", {"a.csv": project.encode()})
        wrong = []
        methods = [m for m in METHODS if not m.client_streaming and m.name not in SKIP]
        assert len(methods) > 40
        for method in methods:
            for mode in MODES:
                request = fill(GetMessageClass(method.input_type)(), mode, project)
                code, details = await status_of(raw.channel, method, request)
                if code in NOT_AN_ANSWER:
                    wrong.append((method.name, mode, code, details[:200]))
        assert not wrong, wrong
    finally:
        await raw.close()
