"""Composite blobs (chunk dedup): ComposeBlob registers a blob as the concatenation of indexed
chunks after hashing those bytes itself, and reads stream a composite by following its recipe.

Never trusts the client: every chunk must be indexed (leased, so GC keeps it while we work), the
bytes are read back from storage and the blob is registered only if their sha256 and size match.
Memory stays bounded: chunks are read in order as ~1 MiB pieces, adjacent ranges of one object
coalesced into one request.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.validation import check_digest, check_size

from arkive_common import api
from arkive_common.blobstore import BlobStore
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import blob_service_pb2 as pb

MAX_CHUNKS = 1_000_000  # 64 GiB at the average chunk size
MAX_PER_MESSAGE = 10_000
PART = 5_000  # chunk digests per compose part: hashing holds a part's rows in one transaction
MAX_RANGE = 64 * 1024 * 1024


def is_composite(info: api.BlobInfo) -> bool:
    return info.key.startswith(api.RECIPE_KEY_PREFIX)


def _coalesce(chunks: list[tuple[int, api.BlobInfo]]) -> list[tuple[str, int, int]]:
    """(key, start, length) reads for chunks in order, merging neighbours in one object."""
    out: list[tuple[str, int, int]] = []
    for _, info in chunks:
        start = max(info.offset, 0)
        if out:
            key, s, n = out[-1]
            if key == info.key and s + n == start and n + info.size <= MAX_RANGE:
                out[-1] = (key, s, n + info.size)
                continue
        out.append((info.key, start, info.size))
    return out


async def read_chunks(store: BlobStore, chunks: list[tuple[int, api.BlobInfo]], skip: int = 0) -> AsyncIterator[bytes]:
    """The chunks' bytes in order, leaving out the first `skip` bytes."""
    for key, start, length in _coalesce(chunks):
        if skip >= length:
            skip -= length
            continue
        async for piece in store.read(key, start + skip, length - skip):
            yield piece
        skip = 0


async def read_composite(rpc: RpcClient, store: BlobStore, info: api.BlobInfo, offset: int = 0) -> AsyncIterator[bytes]:
    """Streams a composite from `offset`, one recipe page (≤ 2,000 chunks) at a time."""
    pos = offset
    while pos < info.size:
        page = await rpc.call(HASHING.recipe, api.RecipeQuery(info.digest, pos))
        if not page.chunks:
            raise FailedPrecondition(f"the recipe of {info.digest} ends at byte {pos} of {info.size}")
        async for piece in read_chunks(store, page.chunks, pos - page.chunks[0][0]):
            pos += len(piece)
            yield piece


async def compose(messages: AsyncIterator[pb.ComposeBlobRequest], rpc: RpcClient, store: BlobStore):
    first = await anext(aiter(messages), None)
    if first is None or not first.digest:
        raise InvalidArgument("the first ComposeBlob message must carry the digest and size")
    digest, size = check_digest(first.digest), check_size(first.size)
    chunks = list(first.chunks)
    async for msg in messages:
        if (msg.digest and msg.digest != digest) or (msg.size and msg.size != size):
            raise InvalidArgument("ComposeBlob: only the first message carries digest and size")
        if len(msg.chunks) > MAX_PER_MESSAGE:
            raise InvalidArgument(f"at most {MAX_PER_MESSAGE} chunks per ComposeBlob message")
        chunks += msg.chunks
        if len(chunks) > MAX_CHUNKS:
            raise InvalidArgument(f"at most {MAX_CHUNKS} chunks per composite blob")
    if not chunks:
        raise InvalidArgument("ComposeBlob needs at least one chunk")
    for d in chunks:
        check_digest(d)
    present = (await rpc.call(HASHING.lease, api.StatBlobs([digest]))).blobs
    if present:
        if present[0].size != size:
            raise InvalidArgument(f"blob {digest} has {present[0].size} bytes, not {size}")
        return pb.ComposeBlobResponse(digest=digest, size=size, already_present=True)
    # Lease every chunk: GC keeps them until the composite (whose recipe protects them) is indexed.
    infos: dict[str, api.BlobInfo] = {}
    distinct = list(dict.fromkeys(chunks))
    for i in range(0, len(distinct), 10_000):
        batch = distinct[i : i + 10_000]
        got = await rpc.call(HASHING.lease, api.StatBlobs(batch))
        infos.update({b.digest: b for b in got.blobs})
    for d in chunks:
        if d not in infos:
            raise FailedPrecondition(f"chunk {d} is not stored; upload it first")
        if is_composite(infos[d]):
            raise InvalidArgument(f"chunk {d} is itself a composite blob")
    total = sum(infos[d].size for d in chunks)
    if total != size:
        raise InvalidArgument(f"the chunks add up to {total} bytes, not {size}")
    h = hashlib.sha256()
    for i in range(0, len(chunks), PART):  # bounded: one recipe page of chunk locations at a time
        async for piece in read_chunks(store, [(0, infos[d]) for d in chunks[i : i + PART]]):
            h.update(piece)
    actual = "sha256:" + h.hexdigest()
    if actual != digest:
        raise InvalidArgument(f"digest mismatch: the chunks hash to {actual}, not {digest}")
    upload_id = uuid.uuid4().hex
    composed = api.Composed()
    for i in range(0, len(chunks), PART):
        last = i + PART >= len(chunks)
        part = api.ComposeBlob(upload_id, digest, size, i, chunks[i : i + PART], last)
        composed = await rpc.call(HASHING.compose, part)
    return pb.ComposeBlobResponse(digest=digest, size=size, already_present=composed.already_present)
