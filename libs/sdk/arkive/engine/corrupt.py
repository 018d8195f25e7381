"""A download that does not verify tells the server, which re-reads the stored bytes itself and, if
they are corrupt, drops the blob from its content index so that the next log of the same bytes
uploads them again (instead of being told they are stored)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from arkive_core.errors import DataLoss

from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc

T = TypeVar("T")
REPORT_TIMEOUT = 120.0
MAX_REPORTED = 100  # the server's limit per call


async def reporting_corruption(channel: grpc.aio.Channel, work: Awaitable[T]) -> T:
    """Awaits `work`; on DataLoss, reports the digests and re-raises with the server's verdict."""
    try:
        return await work
    except DataLoss as exc:
        if not exc.digests:
            raise
        verdict = await _report(channel, exc.digests[:MAX_REPORTED])
        raise DataLoss(f"{exc.message}; {verdict}", digests=exc.digests) from None


async def _report(channel: grpc.aio.Channel, digests: list[str]) -> str:
    stub = adgrpc.AdminServiceStub(channel)
    try:
        resp = await stub.ReportCorruptBlobs(adpb.ReportCorruptBlobsRequest(digests=digests), timeout=REPORT_TIMEOUT)
    except grpc.aio.AioRpcError as err:  # the download's own error matters more than the report's
        return f"reporting it to the server failed ({err.code().name})"
    if resp.corrupt:
        return (
            "the server found the stored copy corrupt and dropped it from its index: "
            "log the same files again to repair the versions that hold it"
        )
    return "the server re-read its stored copy and found it intact (damaged in transfer?): try again"
