"""Packs that leave while the rest of a log is still being hashed.

A first log of thousands of small files used to hash them all, then ask which blobs are missing,
then upload: the hashing (0.1-0.2 s for 2,000 x 16 KiB here) was a step of its own on the way.
EarlyPacks hears of each batch of files as it is hashed; once a pack's worth of small files is
known it asks FindMissingBlobs about them and uploads those missing, on at most PACK_CONCURRENCY
lanes. Blobs are content-addressed and need no draft, so this starts before the log knows whether
its content is a version already; in that case every blob is stored and nothing was missing.
When hashing ends, the last partial pack leaves too; large files go the usual way.
upload_missing then accounts for these packs: their files are added to the draft as they finish.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType

from arkive_proto.v1 import blob_service_pb2 as bpb

from .._rpc import Retry, call_idempotent
from .files import HashedFile
from .packs import PACK_CONCURRENCY, PACK_MAX_BYTES, PACK_MAX_FILE, PACK_MAX_FILES, upload_pack
from .progress import NullProgress
from .wire import BlobStub


@dataclass(slots=True)
class EarlyPack:
    """One early group: the digests the server already had and the files uploaded as a pack."""

    size: int
    present: list[str] = field(default_factory=list)
    sent: list[HashedFile] = field(default_factory=list)


class EarlyPacks:
    """`async with EarlyPacks(...) as early`: pass early to hash_local, then to upload_into_draft.
    Leaving the block cancels whatever upload_missing did not take."""

    def __init__(self, stub: BlobStub, address: str, timeout: float) -> None:
        self._stub = stub
        self._address = address
        self._timeout = timeout
        self._lanes = asyncio.Semaphore(PACK_CONCURRENCY)
        self._group: list[HashedFile] = []
        self._group_bytes = 0
        self.asked: set[str] = set()
        """Digests an early group covers (asked about, and uploaded if missing)."""
        self.tasks: list[asyncio.Task[EarlyPack]] = []
        self.asked_bytes = 0
        """The early groups' bytes (the uploading phase's share of them)."""

    def offer(self, files: list[HashedFile]) -> None:
        """Takes newly hashed files (on the event loop; it must not raise)."""
        for f in files:
            if f.size > PACK_MAX_FILE or f.digest in self.asked:
                continue
            if self._group and (self._group_bytes + f.size > PACK_MAX_BYTES or len(self._group) >= PACK_MAX_FILES):
                self._start()
            self.asked.add(f.digest)
            self._group.append(f)
            self._group_bytes += f.size
        if self._group_bytes >= PACK_MAX_BYTES or len(self._group) >= PACK_MAX_FILES:
            self._start()

    def _start(self) -> None:
        group, size, self._group, self._group_bytes = self._group, self._group_bytes, [], 0
        self.asked_bytes += size
        self.tasks.append(asyncio.create_task(self._send(group, size)))

    async def _send(self, group: list[HashedFile], size: int) -> EarlyPack:
        async with self._lanes:
            request = bpb.FindMissingBlobsRequest(digests=[f.digest for f in group])
            resp = await call_idempotent(
                self._stub.FindMissingBlobs, request, self._address, self._timeout, Retry.of(self._stub)
            )
            missing = set(resp.missing)
            sent = [f for f in group if f.digest in missing]
            if sent:
                await upload_pack(self._stub, sent, self._address, NullProgress())
            return EarlyPack(size, [f.digest for f in group if f.digest not in missing], sent)

    def finish(self) -> None:
        """Hashing is over: the last, partial group leaves now too (before the log's other calls)."""
        if self._group:
            self._start()

    async def cancel(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def __aenter__(self) -> EarlyPacks:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.cancel()  # done tasks are left as they are; upload_missing awaited those it needed
