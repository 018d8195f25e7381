"""Small blobs in bulk: UploadBlobs writes many verified blobs into one pack object (a handful of
PUTs instead of one per file); DownloadBlobs streams many blobs back, reading neighbours in a pack
with one ranged request."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.validation import check_digest, check_size

from arkive_common import api
from arkive_common.blobstore import BlobStore
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import blob_service_pb2 as pb

from . import composite

# One pack is one BlobsPacked event (at most eventlog.MAX_EVENT_BYTES): ~100 bytes a member.
MAX_PACK_BLOBS = 2_000
MAX_PACK_BYTES = 1 << 30
MAX_DOWNLOAD = 10_000
# Ranges of one pack closer than this are read together (one request beats two for small gaps).
COALESCE_GAP = 256 * 1024
MAX_RANGE = 64 * 1024 * 1024
# DownloadBlobs: neighbours up to this size travel whole, many to a message of about INLINE_BYTES
# (one message per blob pair header+chunk costs more than the bytes of a 16 KiB file).
INLINE_MAX_BLOB = 1024 * 1024
INLINE_BYTES = 1024 * 1024


def pack_key() -> str:
    # Under blobs/ so that the staging sweep also collects packs whose registration never happened.
    return f"blobs/packs/{uuid.uuid4().hex}"


async def upload_pack(
    messages: AsyncIterator[pb.UploadBlobsRequest], store: BlobStore, rpc: RpcClient
) -> pb.UploadBlobsResponse:
    key = pack_key()
    writer = store.writer(key)
    members: list[tuple[str, int, int]] = []
    current: tuple[str, int] | None = None
    h = hashlib.sha256()
    received = offset = 0

    def close_blob() -> None:
        nonlocal current
        if current is None:
            return
        digest, size = current
        if received != size:
            raise InvalidArgument(f"blob {digest} ended after {received} of {size} bytes")
        actual = "sha256:" + h.hexdigest()
        if actual != digest:
            raise InvalidArgument(f"digest mismatch: the bytes hash to {actual}, not {digest}")
        members.append((digest, size, offset - size))
        current = None

    try:
        async for msg in messages:
            kind = msg.WhichOneof("payload")
            if kind == "blobs":  # whole blobs, many to a message
                close_blob()
                blobs = msg.blobs.blobs
                if len(members) + len(blobs) > MAX_PACK_BLOBS:
                    raise InvalidArgument(f"at most {MAX_PACK_BLOBS} blobs per UploadBlobs call")
                datas = [b.data for b in blobs]  # each attribute access copies the bytes out of the message
                # Hashed off the event loop (hashlib releases the GIL): the loop serves every call.
                actuals = await asyncio.to_thread(_sha256_all, datas)
                for b, data, actual in zip(blobs, datas, actuals, strict=True):
                    digest, size = check_digest(b.digest), check_size(b.size)
                    if len(data) != size:
                        raise InvalidArgument(f"blob {digest} has {len(data)} bytes, not the declared {size}")
                    if offset + size > MAX_PACK_BYTES:
                        raise InvalidArgument(f"at most {MAX_PACK_BYTES} bytes per UploadBlobs call")
                    if actual != digest:
                        raise InvalidArgument(f"digest mismatch: the bytes hash to {actual}, not {digest}")
                    members.append((digest, size, offset))
                    offset += size
                    await writer.write(data)  # kept as is: the writer joins a body once
            elif kind == "header":
                close_blob()
                if len(members) >= MAX_PACK_BLOBS:
                    raise InvalidArgument(f"at most {MAX_PACK_BLOBS} blobs per UploadBlobs call")
                current = (check_digest(msg.header.digest), check_size(msg.header.size))
                if offset + current[1] > MAX_PACK_BYTES:
                    raise InvalidArgument(f"at most {MAX_PACK_BYTES} bytes per UploadBlobs call")
                h, received = hashlib.sha256(), 0
            elif current is None:
                raise InvalidArgument("UploadBlobs: bytes before the first header")
            else:
                chunk = msg.chunk  # each attribute access copies the bytes out of the message
                received += len(chunk)
                if received > current[1]:
                    raise InvalidArgument(f"blob {current[0]} is longer than the declared {current[1]} bytes")
                h.update(chunk)
                offset += len(chunk)
                await writer.write(chunk)
        close_blob()
        if not members:
            await writer.abort()
            return pb.UploadBlobsResponse()
        await writer.complete()
    except BaseException:
        await writer.abort()
        raise
    reg = await rpc.call(HASHING.register_pack, api.RegisterPack(key, members, offset))
    if reg.stored == 0:  # every member was already stored: nothing in this pack is referenced
        await store.delete(key)
    return pb.UploadBlobsResponse(stored=reg.stored, already_present=reg.already_present, bytes_stored=reg.stored_bytes)


def _sha256_all(datas: list[bytes]) -> list[str]:
    return ["sha256:" + hashlib.sha256(d).hexdigest() for d in datas]


def _ranges(infos: list[api.BlobInfo]) -> list[tuple[str, int, int, list[api.BlobInfo]]]:
    """Groups blobs into (key, start, length, members) reads: one per object, neighbours in a pack
    coalesced when the gap between them is small."""
    out: list[tuple[str, int, int, list[api.BlobInfo]]] = []
    for info in sorted(infos, key=lambda i: (i.key, max(i.offset, 0))):
        start = max(info.offset, 0)
        if out:
            key, s, length, members = out[-1]
            end = s + length
            if (
                key == info.key
                and info.offset >= 0
                and start - end <= COALESCE_GAP
                and start + info.size - s <= MAX_RANGE
            ):
                out[-1] = (key, s, max(end, start + info.size) - s, [*members, info])
                continue
        out.append((info.key, start, info.size, [info]))
    return out


async def download_many(
    digests: list[str], store: BlobStore, infos: dict[str, api.BlobInfo], rpc: RpcClient | None = None
):
    if len(digests) > MAX_DOWNLOAD:
        raise InvalidArgument(f"at most {MAX_DOWNLOAD} digests per DownloadBlobs call")
    wanted = list(dict.fromkeys(check_digest(d) for d in digests))
    missing = [d for d in wanted if d not in infos]
    if missing:
        raise NotFound(f"blob {missing[0]} not found" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    for key, start, length, members in _ranges([infos[d] for d in wanted]):
        if len(members) == 1:  # streamed as it arrives: a large blob never sits in memory whole
            info = members[0]
            yield pb.DownloadBlobsResponse(header=pb.UploadBlobHeader(digest=info.digest, size=info.size))
            if composite.is_composite(info) and rpc is not None:  # chunk dedup: follow the recipe
                source = composite.read_composite(rpc, store, info)
            else:
                source = store.read(key, start, length)
            async for chunk in source:
                yield pb.DownloadBlobsResponse(chunk=chunk)
            continue
        buf = bytearray()
        async for chunk in store.read(key, start, length):
            buf += chunk
        batch: list[pb.InlineBlob] = []
        batched = 0
        for info in members:
            at = max(info.offset, 0) - start
            if info.size <= INLINE_MAX_BLOB:
                batch.append(pb.InlineBlob(digest=info.digest, size=info.size, data=bytes(buf[at : at + info.size])))
                batched += info.size
                if batched >= INLINE_BYTES:
                    yield pb.DownloadBlobsResponse(blobs=pb.InlineBlobs(blobs=batch))
                    batch, batched = [], 0
                continue
            yield pb.DownloadBlobsResponse(header=pb.UploadBlobHeader(digest=info.digest, size=info.size))
            for i in range(at, at + info.size, 1 << 20):
                yield pb.DownloadBlobsResponse(chunk=bytes(buf[i : min(i + (1 << 20), at + info.size)]))
        if batch:
            yield pb.DownloadBlobsResponse(blobs=pb.InlineBlobs(blobs=batch))
