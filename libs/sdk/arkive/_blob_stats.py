"""Client.blob_stats(): the server's cluster-wide byte counters, and how the CLI prints them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class BlobStats:
    """What the blob plane holds and what uploads sent (GetBlobStats).

    Projections of the event log: blobs_indexed, logical_bytes (each distinct blob once),
    physical_objects and physical_bytes (S3 objects holding indexed blobs, pack dead weight
    included), pack_objects, pack_bytes. Operational counters, kept across projection rebuilds:
    bytes_received (verified upload bytes, duplicates dropped by the server included),
    bytes_stored and blobs_stored (what uploads added to the index).
    """

    blobs_indexed: int
    logical_bytes: int
    physical_objects: int
    physical_bytes: int
    pack_objects: int
    pack_bytes: int
    bytes_received: int
    bytes_stored: int
    blobs_stored: int

    @classmethod
    def from_proto(cls, resp: Any) -> BlobStats:
        return cls(**{f.name: int(getattr(resp, f.name)) for f in fields(cls)})

    def to_dict(self) -> dict[str, int]:
        return asdict(self)
