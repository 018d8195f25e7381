"""Bus requests and replies of garbage collection in steps (hashing), which the gateway runs in
order, asking ingest "referenced?" in between (arkive_gateway/gc.py): hashing never calls ingest."""

from __future__ import annotations

from datetime import datetime

import msgspec

from .api_retention import CollectGarbage


class GcStarted(msgspec.Struct, frozen=True):
    sweep_id: str
    cutoff: datetime  # now - grace, by the database's clock
    pending_purged: int  # objects of an earlier, interrupted sweep deleted now


class GcCandidates(msgspec.Struct, frozen=True):
    cutoff: datetime
    after: str = ""  # the last digest of the previous page
    batch_size: int = 1000
    digests: list[str] = []  # only these (targeted GC); empty = every blob


class GcPage(msgspec.Struct, frozen=True):
    """Blobs stored before the cutoff, unleased since and no chunk some blob still needs."""

    digests: list[str]
    sizes: list[int]
    next_after: str = ""  # "" = this was the last page


class GcFlush(msgspec.Struct, frozen=True):
    digests: list[str]


class GcSweep(msgspec.Struct, frozen=True):
    sweep_id: str
    cutoff: datetime
    digests: list[str]  # those ingest answered "not referenced" after the flush


class GcSwept(msgspec.Struct, frozen=True):
    deleted: int
    bytes_freed: int


class GcFinish(msgspec.Struct, frozen=True):
    request: CollectGarbage
    started: GcStarted
    unreferenced: int
    deleted: int
    bytes_freed: int
    seconds: float
