"""msgspec views <-> protobuf messages (protobuf stops here)."""

from __future__ import annotations

import json

from google.protobuf.timestamp_pb2 import Timestamp

from arkive_common import api
from arkive_common import api_diff as ad
from arkive_proto.v1 import artifact_service_pb2, types_pb2


def timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def version(v: api.VersionView) -> types_pb2.Version:
    return types_pb2.Version(
        version_id=v.version_id,
        project=v.project,
        name=v.name,
        type=v.type,
        version=v.version,
        manifest_digest=v.manifest_digest,
        file_count=v.file_count,
        total_size=v.total_size,
        metadata_json=json.dumps(v.metadata, sort_keys=True),
        description=v.description,
        aliases=v.aliases,
        tags=v.tags,
        label=v.label,
        created_at=timestamp(v.created_at),
        linked_from=v.linked_from,
    )


def collection(c: api.CollectionView) -> types_pb2.Collection:
    msg = types_pb2.Collection(
        project=c.project, name=c.name, type=c.type, version_count=c.version_count, created_at=timestamp(c.created_at)
    )
    if c.latest is not None:
        msg.latest.CopyFrom(version(c.latest))
    return msg


def file_entry(entry: tuple[str, str, int], ref: tuple[str, str, str, str, bool] | None = None) -> types_pb2.FileEntry:
    """ref: (path, uri, etag, version_id, checksum) when the entry is a reference."""
    out = types_pb2.FileEntry(path=entry[0], digest=entry[1], size=entry[2])
    if ref is not None:
        out.reference.CopyFrom(types_pb2.Reference(uri=ref[1], etag=ref[2], version_id=ref[3], checksum=ref[4]))
    return out


def draft(d: api.DraftView) -> artifact_service_pb2.Draft:
    return artifact_service_pb2.Draft(
        draft_id=d.draft_id,
        project=d.project,
        name=d.name,
        type=d.type,
        distributed_id=d.distributed_id,
        file_count=d.file_count,
        created_at=timestamp(d.created_at),
        updated_at=timestamp(d.updated_at),
    )


_CHANGE_KINDS = {
    "added": artifact_service_pb2.FILE_CHANGE_KIND_ADDED,
    "removed": artifact_service_pb2.FILE_CHANGE_KIND_REMOVED,
    "changed": artifact_service_pb2.FILE_CHANGE_KIND_CHANGED,
}


def _side(path: str, digest: str, size: int, uri: str) -> types_pb2.FileEntry:
    out = types_pb2.FileEntry(path=path, digest=digest, size=size)
    if uri:
        out.reference.uri = uri
    return out


def file_change(c: ad.FileChange) -> artifact_service_pb2.FileChange:
    out = artifact_service_pb2.FileChange(path=c.path, kind=_CHANGE_KINDS[c.change])
    if c.change != "added":
        out.before.CopyFrom(_side(c.path, c.old_digest, c.old_size, c.old_uri))
    if c.change != "removed":
        out.after.CopyFrom(_side(c.path, c.new_digest, c.new_size, c.new_uri))
    return out
