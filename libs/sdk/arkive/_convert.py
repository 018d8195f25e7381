"""Protobuf messages to SDK objects (and back for file entries)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from arkive_proto.v1 import artifact_service_pb2, types_pb2

from .engine.files import HashedFile
from .version import ArtifactCollection, ArtifactVersion, AsyncArtifactVersion, Draft, FileInfo

# Limits of one AddFiles or UpsertFiles call.
ADD_FILES_MAX_ENTRIES = 5_000
# Also cap by bytes: 5,000 entries with 1 KiB paths would exceed gRPC's default 4 MiB limit.
ADD_FILES_MAX_BYTES = 2 * 1024 * 1024


def to_datetime(ts: Timestamp) -> datetime:
    # Built by hand: Timestamp.ToDatetime(tzinfo=...) exists, but this keeps microseconds exact
    # and always timezone-aware (UTC) so isoformat() carries "+00:00".
    return datetime.fromtimestamp(ts.seconds, tz=UTC).replace(microsecond=ts.nanos // 1000)


def parse_metadata_json(text: str) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    # The contract says "JSON object"; anything else is shown rather than dropped.
    return value if isinstance(value, dict) else {"value": value}


def version_from_proto(
    v: types_pb2.Version,
    client: Any,
    *,
    created: bool = False,
    files_uploaded: int = 0,
    bytes_uploaded: int = 0,
) -> ArtifactVersion:
    # Versions of an AsyncClient get the async download()/files().
    cls = AsyncArtifactVersion if getattr(client, "_is_async", False) else ArtifactVersion
    return cls(
        project=v.project,
        name=v.name,
        version=int(v.version),
        version_id=v.version_id,
        type=v.type,
        manifest_digest=v.manifest_digest,
        file_count=int(v.file_count),
        total_size=int(v.total_size),
        metadata=parse_metadata_json(v.metadata_json),
        description=v.description,
        aliases=list(v.aliases),
        tags=tuple(v.tags),
        label=v.label,
        created_at=to_datetime(v.created_at),
        linked_from=v.linked_from,
        created=created,
        files_uploaded=files_uploaded,
        bytes_uploaded=bytes_uploaded,
        _client=client,
    )


def collection_from_proto(c: types_pb2.Collection, client: Any) -> ArtifactCollection:
    return ArtifactCollection(
        project=c.project,
        name=c.name,
        type=c.type,
        version_count=int(c.version_count),
        latest=version_from_proto(c.latest, client) if c.HasField("latest") else None,
        created_at=to_datetime(c.created_at),
    )


def draft_from_proto(d: artifact_service_pb2.Draft) -> Draft:
    return Draft(
        draft_id=d.draft_id,
        project=d.project,
        name=d.name,
        type=d.type,
        distributed_id=d.distributed_id,
        file_count=int(d.file_count),
        created_at=to_datetime(d.created_at),
        updated_at=to_datetime(d.updated_at),
    )


def file_from_proto(f: types_pb2.FileEntry) -> FileInfo:
    return FileInfo(f.path, f.digest, int(f.size))


def file_to_proto(path: str, digest: str, size: int) -> types_pb2.FileEntry:
    return types_pb2.FileEntry(path=path, digest=digest, size=size)


def add_files_batches(hashed: list[HashedFile]) -> list[list[types_pb2.FileEntry]]:
    """AddFiles (and UpsertFiles) batches: at most 5,000 entries (the contract) and ~2 MiB (gRPC's
    message limit)."""
    batches: list[list[types_pb2.FileEntry]] = []
    batch: list[types_pb2.FileEntry] = []
    nbytes = 0
    for f in hashed:
        entry = file_to_proto(f.path, f.digest, f.size)
        size = entry.ByteSize() + 4  # + field tag and length prefix
        if batch and (len(batch) >= ADD_FILES_MAX_ENTRIES or nbytes + size > ADD_FILES_MAX_BYTES):
            batches.append(batch)
            batch, nbytes = [], 0
        batch.append(entry)
        nbytes += size
    if batch:
        batches.append(batch)
    return batches
