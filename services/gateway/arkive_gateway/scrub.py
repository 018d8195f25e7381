"""AdminService's blob scrubbing: forwarded to hashing, which owns the content index and re-reads
the bytes itself (a client's report of a corrupt download is only a hint to check)."""

from __future__ import annotations

from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest

from arkive_common import api_scrub as sc
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import admin_service_pb2 as admin_pb

DEFAULT_PAGE_BYTES = 256 * 1024 * 1024
PAGE_TIMEOUT = 600.0  # one page reads up to max_bytes from S3 (and at least one whole object)


def _corrupt(found: list[sc.CorruptBlob]) -> list[admin_pb.CorruptBlob]:
    return [admin_pb.CorruptBlob(digest=c.digest, key=c.key, reason=c.reason) for c in found]


async def scrub_blobs(rpc: RpcClient, request: admin_pb.ScrubBlobsRequest) -> admin_pb.ScrubBlobsResponse:
    if request.max_bytes < 0:
        raise InvalidArgument("max_bytes must not be negative")
    if request.sample < 0:
        raise InvalidArgument("sample must not be negative")
    page = sc.ScrubPage(request.after_key, request.max_bytes or DEFAULT_PAGE_BYTES, request.sample)
    report = await rpc.call(HASHING.scrub, page, timeout=PAGE_TIMEOUT)
    return admin_pb.ScrubBlobsResponse(
        objects_checked=report.objects_checked,
        blobs_checked=report.blobs_checked,
        bytes_read=report.bytes_read,
        corrupt=_corrupt(report.corrupt),
        next_key=report.next_key,
    )


async def report_corrupt(
    rpc: RpcClient, request: admin_pb.ReportCorruptBlobsRequest
) -> admin_pb.ReportCorruptBlobsResponse:
    if not request.digests:
        raise InvalidArgument("name at least one digest")
    if len(request.digests) > sc.MAX_VERIFY_DIGESTS:
        raise InvalidArgument(f"at most {sc.MAX_VERIFY_DIGESTS} digests per call")
    digests = [check_digest(d) for d in request.digests]
    report = await rpc.call(HASHING.verify_blobs, sc.VerifyBlobs(digests), timeout=PAGE_TIMEOUT)
    return admin_pb.ReportCorruptBlobsResponse(blobs_checked=report.blobs_checked, corrupt=_corrupt(report.corrupt))
