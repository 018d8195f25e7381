"""Calling any gateway RPC by its descriptor with a chosen token, and making principals for tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from arkive_proto.v1 import (
    admin_service_pb2,
    artifact_service_pb2,
    auth_service_pb2,
    auth_service_pb2_grpc,
    blob_service_pb2,
    catalog_service_pb2,
    lineage_service_pb2,
    reference_service_pb2,
    retention_service_pb2,
)

MODULES = (
    admin_service_pb2,
    artifact_service_pb2,
    auth_service_pb2,
    blob_service_pb2,
    catalog_service_pb2,
    lineage_service_pb2,
    reference_service_pb2,
    retention_service_pb2,
)


def all_methods() -> list[MethodDescriptor]:
    """Every RPC the gateway's own services declare (health and reflection are not ours)."""
    return [m for mod in MODULES for s in mod.DESCRIPTOR.services_by_name.values() for m in s.methods]


def path_of(m: MethodDescriptor) -> str:
    return f"/{m.containing_service.full_name}/{m.name}"


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")] if token else []


async def _no_requests() -> AsyncIterator[Any]:
    return
    yield  # an async generator that sends nothing


async def call_code(
    channel: grpc.aio.Channel, m: MethodDescriptor, request: Any, metadata: list[tuple[str, str]]
) -> grpc.StatusCode:
    """The status code the call ends with (OK when it succeeds)."""
    path, ser = path_of(m), type(request).SerializeToString
    try:
        if m.client_streaming:
            call = channel.stream_unary(path, request_serializer=ser, response_deserializer=bytes)
            await call(_no_requests(), metadata=metadata, timeout=60)
        elif m.server_streaming:
            stream = channel.unary_stream(path, request_serializer=ser, response_deserializer=bytes)
            async for _ in stream(request, metadata=metadata, timeout=60):
                pass
        else:
            call = channel.unary_unary(path, request_serializer=ser, response_deserializer=bytes)
            await call(request, metadata=metadata, timeout=60)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def request_for(m: MethodDescriptor, values: dict[str, Any]) -> Any:
    """The method's request with every field named in `values` set (message fields recursively)."""
    cls = message_factory.GetMessageClass(m.input_type)
    request = cls()
    _fill(request, values)
    return request


def _fill(msg: Any, values: dict[str, Any]) -> None:
    for field in msg.DESCRIPTOR.fields:
        if field.is_repeated:
            continue
        if field.message_type is not None:
            if field.message_type.full_name.startswith("arkive."):  # not Timestamp and friends
                _fill(getattr(msg, field.name), values)
        elif field.name in values:
            setattr(msg, field.name, values[field.name])


async def create_token(
    channel: grpc.aio.Channel, admin: str, principal: str, *, project: str = "", role: str = "", expires: int = 0
) -> str:
    stub = auth_service_pb2_grpc.AuthServiceStub(channel)
    req = auth_service_pb2.CreateTokenRequest(
        principal_id=principal, project=project, role=role, expires_in_seconds=expires
    )
    return (await stub.CreateToken(req, metadata=bearer(admin))).token


def admin_token() -> str:
    return os.environ["ARKIVE_API_KEY"]
