"""Client.scrub(): re-verify stored blobs on the server, and how the CLI prints the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from arkive_proto.v1 import admin_service_pb2 as adpb


@dataclass(frozen=True)
class CorruptBlob:
    digest: str
    key: str
    reason: str


@dataclass(frozen=True)
class ScrubResult:
    """What a scrub read and found. Corrupt blobs have left the content index: the next log of the
    same bytes uploads them again (and versions that hold them download once that happened)."""

    objects_checked: int = 0
    blobs_checked: int = 0
    bytes_read: int = 0
    corrupt: list[CorruptBlob] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def scrub_all(call: Callable[[adpb.ScrubBlobsRequest], Awaitable[Any]], sample: int | None) -> ScrubResult:
    """Pages through ScrubBlobs until the server says it covered every object (one call for a sample)."""
    objects = blobs = read = 0
    corrupt: list[CorruptBlob] = []
    after = ""
    while True:
        resp = await call(adpb.ScrubBlobsRequest(after_key=after, sample=sample or 0))
        objects += resp.objects_checked
        blobs += resp.blobs_checked
        read += resp.bytes_read
        corrupt += [CorruptBlob(c.digest, c.key, c.reason) for c in resp.corrupt]
        after = resp.next_key
        if not after:
            return ScrubResult(objects, blobs, read, corrupt)
