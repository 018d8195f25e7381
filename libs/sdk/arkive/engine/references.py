"""Reference entries: what Artifact.add_reference records, what a listed file refers to, and
sending them with a log.

s3:// and http(s):// references are resolved by the gateway (ETag, S3 version id, size) and
fetched through it on download (DownloadReference refuses a changed source). file:// references
are resolved HERE, since the server cannot see this machine's disk: a folder becomes one entry per
file, and the SDK hashes each file and sends (uri, sha256, size); a download reads that local path
again and verifies the sha256. arkive:// references (a file or folder of another version) are
pinned by the gateway to one version and the files' sha256; a download reads them as blobs by
digest. Downloads are in ref_download.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import grpc
from arkive_core.errors import InvalidArgument, NotFound

from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rgrpc

from .files import artifact_path, hash_file, walk_dir
from .types import FileInfo

SPECS_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """What Artifact.add_reference recorded; resolved when the artifact is logged."""

    uri: str
    name: str | None
    checksum: bool
    max_objects: int | None


@dataclass(frozen=True, slots=True)
class Reference:
    """Where a reference entry's bytes live and what they were when the version was logged."""

    uri: str
    etag: str
    version_id: str
    checksum: bool


class ReferenceFile(FileInfo):
    """A FileInfo (path, digest, size) that is a reference: `.reference` says where its bytes live.
    digest is the sha256 for file:// references, else ""."""

    reference: Reference


def reference_file(f: Any) -> FileInfo:
    """FileInfo from a proto FileEntry, a ReferenceFile when it has a reference."""
    if not f.HasField("reference"):
        return FileInfo(f.path, f.digest, int(f.size))
    out = ReferenceFile(f.path, f.digest, int(f.size))
    r = f.reference
    out.reference = Reference(r.uri, r.etag, r.version_id, r.checksum)
    return out


DEFAULT_MAX_OBJECTS = 10_000


def check_spec(
    uri: str, name: str | None, checksum: bool, max_objects: int | None
) -> tuple[list[ReferenceSpec], list[tuple[str, str]]]:
    """The specs a reference stands for (a file:// folder: one per file) and what a folder walk
    left out ((local path, reason), as Artifact.add_dir reports it)."""
    schemes = ("s3://", "http://", "https://", "file://", "arkive://")
    if not isinstance(uri, str) or not uri.startswith(schemes):
        raise InvalidArgument(f"a reference is an s3://, http(s)://, file:// or arkive:// URI, not {uri!r}")
    if name is not None:
        artifact_path(name.rstrip("/"))  # a prefix for s3 prefixes and folders
    if max_objects is not None and (not isinstance(max_objects, int) or max_objects <= 0):
        raise InvalidArgument("max_objects must be a positive integer")
    if uri.startswith("arkive://"):
        if ":" not in uri[len("arkive://") :]:
            raise InvalidArgument(f"{uri!r}: name the version, arkive://project/name:v3/path (or :alias)")
    if uri.startswith("file://"):
        path = local_path(uri)
        if path.is_dir():
            return _folder_specs(path, name, checksum, max_objects or DEFAULT_MAX_OBJECTS)
        if not path.is_file():
            raise NotFound(f"no such file or folder: {path}")
    return [ReferenceSpec(uri, name, bool(checksum), max_objects)], []


def _folder_specs(
    root: Path, name: str | None, checksum: bool, limit: int
) -> tuple[list[ReferenceSpec], list[tuple[str, str]]]:
    """A file:// folder: one entry per regular file below it, at name/<path below the folder>
    (no prefix without a name, as an s3 prefix), hashed when the artifact is logged."""
    files, skipped = walk_dir(root, name)
    if len(files) > limit:
        raise InvalidArgument(f"{root} holds {len(files)} files, more than max_objects={limit}")
    specs = [ReferenceSpec(f.source.absolute().as_uri(), f.path, bool(checksum), None) for f in files]
    return specs, skipped


def local_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise InvalidArgument(f"file references need an absolute local path (file:///...), not {uri!r}")
    return Path(unquote(parts.path))


async def _to_proto(spec: ReferenceSpec) -> rpb.ReferenceSpec:
    out = rpb.ReferenceSpec(uri=spec.uri, name=spec.name or "", checksum=spec.checksum)
    out.max_objects = spec.max_objects or 0
    if spec.uri.startswith("file://") and spec.checksum:
        out.digest, out.size = await asyncio.to_thread(hash_file, local_path(spec.uri))
    return out


async def send_references(channel: grpc.aio.Channel, draft_id: str, specs: Sequence[ReferenceSpec], call) -> list[str]:
    """Adds the artifact's references to the draft (after its files); returns the ids of the
    versions its arkive:// entries were pinned to (the log's run records it used them)."""
    stub = rgrpc.ReferenceServiceStub(channel)
    protos = [await _to_proto(s) for s in specs]
    sources: dict[str, None] = {}
    for i in range(0, len(protos), SPECS_PER_CALL):
        req = rpb.AddReferencesRequest(draft_id=draft_id, references=protos[i : i + SPECS_PER_CALL])
        resp = await call(stub.AddReferences, req)
        for e in resp.entries:
            if e.reference.uri.startswith("arkive://") and e.reference.version_id:
                sources[e.reference.version_id] = None
    return list(sources)
