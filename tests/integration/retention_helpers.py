"""Shared bits of the retention tests: a raw gRPC client with the RetentionService stub."""

from __future__ import annotations

import grpc
import pytest

from arkive_proto.v1 import retention_service_pb2_grpc as rg

from .rawgrpc import Raw


class RawRetention(Raw):
    def __init__(self, addr: str) -> None:
        super().__init__(addr)
        self.retention = rg.RetentionServiceStub(self.channel)


async def code_of(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value.code(), info.value.details()
