"""Reference entries: what Artifact.add_reference records, what a listed file refers to, and
sending them with a log (file:// ones hashed here, since the server cannot see this disk).

s3:// and http(s):// references are resolved by the gateway (ETag, S3 version id, size) and
fetched through it on download (DownloadReference refuses a changed source); see ref_download.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import grpc

from arkive_common.errors import InvalidArgument, NotFound
from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rgrpc

from .files import artifact_path, hash_file
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


def check_spec(uri: str, name: str | None, checksum: bool, max_objects: int | None) -> ReferenceSpec:
    if not isinstance(uri, str) or not uri.startswith(("s3://", "http://", "https://", "file://")):
        raise InvalidArgument(f"a reference is an s3://, http(s):// or file:// URI, not {uri!r}")
    if name is not None:
        artifact_path(name.rstrip("/"))  # a prefix for s3 prefixes
    if max_objects is not None and (not isinstance(max_objects, int) or max_objects <= 0):
        raise InvalidArgument("max_objects must be a positive integer")
    if uri.startswith("file://"):
        path = local_path(uri)
        if not path.is_file():
            raise NotFound(f"no such file: {path} (file:// references name one file)")
    return ReferenceSpec(uri, name, bool(checksum), max_objects)


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


async def send_references(channel: grpc.aio.Channel, draft_id: str, specs: Sequence[ReferenceSpec], call) -> None:
    """Adds the artifact's references to the draft (after its files)."""
    stub = rgrpc.ReferenceServiceStub(channel)
    protos = [await _to_proto(s) for s in specs]
    for i in range(0, len(protos), SPECS_PER_CALL):
        req = rpb.AddReferencesRequest(draft_id=draft_id, references=protos[i : i + SPECS_PER_CALL])
        await call(stub.AddReferences, req)
