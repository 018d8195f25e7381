"""register: objects already in arkive's bucket become a new version without copying (ZenML's
register_artifact). The gateway reads each object once and hashes it; hashing indexes that digest
at the object's own key; the version then holds ordinary file entries.

Only arkive's bucket (other buckets: PERMISSION_DENIED, use references) and never its internal
`blobs/` prefix (INVALID_ARGUMENT). GC drops the index row of a registered object that no version
needs but never deletes the object itself (see hashing gc.py): it belongs to whoever put it there.
Overwriting a registered object afterwards is the owner's mistake; downloads verify sha256 and
report it as corrupt rather than serving other bytes.
"""

from __future__ import annotations

import asyncio
import hashlib

from arkive_core.errors import InvalidArgument, NotFound, PermissionDenied
from arkive_core.limits import MAX_FILES_PER_CALL
from arkive_core.validation import check_annotations, check_name, check_type, parse_metadata

from arkive_common import api
from arkive_common.blobstore import BlobStore
from arkive_common.contracts import HASHING, INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import reference_service_pb2 as pb

from . import convert
from .ref_sources import DEFAULT_MAX_OBJECTS, entry_path, split_s3

INTERNAL_PREFIX = "blobs/"
HASH_CONCURRENCY = 4


async def _list(store: BlobStore, prefix: str, limit: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    paginator = store.s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=store.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            if key.startswith(INTERNAL_PREFIX):
                raise InvalidArgument(f"{key} is under arkive's internal {INTERNAL_PREFIX} prefix")
            if len(out) >= limit:
                raise InvalidArgument(f"s3://{store.bucket}/{prefix} holds more than {limit} objects")
            out.append((key, int(obj["Size"])))
    return out


async def _hash(store: BlobStore, key: str) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    async for chunk in store.read(key):
        h.update(chunk)
        size += len(chunk)
    return "sha256:" + h.hexdigest(), size


async def register_objects(req: pb.RegisterObjectsRequest, rpc: RpcClient, store: BlobStore):
    check_name(req.project, "project")
    check_name(req.name)
    check_type(req.type)
    metadata = parse_metadata(req.metadata_json)
    check_annotations(req.description, list(req.aliases), list(req.tags))
    bucket, key = split_s3(req.uri)
    if bucket != store.bucket:
        raise PermissionDenied(
            f"register links objects of arkive's bucket {store.bucket!r} only; reference s3://{bucket}/ instead"
        )
    if not key or key.startswith(INTERNAL_PREFIX) or (INTERNAL_PREFIX.startswith(key) and key.endswith("/")):
        raise InvalidArgument(f"cannot register {req.uri!r}: name a prefix outside arkive's internal {INTERNAL_PREFIX}")
    if req.max_objects < 0:
        raise InvalidArgument("max_objects must not be negative")
    limit = req.max_objects or DEFAULT_MAX_OBJECTS
    if key.endswith("/"):
        objects = await _list(store, key, limit)
        paths = {k: entry_path("", k[len(key) :]) for k, _ in objects}
    else:
        objects = [(key, 0)] if await store.exists(key) else []
        paths = {key: entry_path("", key.rsplit("/", 1)[-1])}
    if not objects:
        raise NotFound(f"no objects at {req.uri}")
    sem = asyncio.Semaphore(HASH_CONCURRENCY)

    async def one(k: str) -> tuple[str, str, int]:
        async with sem:
            digest, size = await _hash(store, k)
        # Indexes the digest at this key (or leases an already stored copy): no bytes move.
        await rpc.call(HASHING.register_object, api.RegisterBlob(digest, size, k))
        return paths[k], digest, size

    entries = list(await asyncio.gather(*(one(k) for k, _ in objects)))
    draft = await rpc.call(INGEST.create_draft, api.CreateDraft(req.project, req.name, req.type))
    for start in range(0, len(entries), MAX_FILES_PER_CALL):
        cmd = api.AddFiles(draft.draft_id, entries[start : start + MAX_FILES_PER_CALL])
        await rpc.call(INGEST.add_files, cmd)
    commit = api.CommitDraft(
        draft_id=draft.draft_id,
        metadata=metadata,
        description=req.description,
        aliases=list(req.aliases),
        tags=list(req.tags),
    )
    reply = await rpc.call(INGEST.commit_draft, commit)
    return pb.RegisterObjectsResponse(
        version=convert.version(reply.version), created=reply.created, objects_registered=len(entries)
    )
