"""register: link objects already in arkive's bucket as a version, without copying them; and the
arkive:// references a download reads as blobs.

The reference types and sending them with a log live in engine/references.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from arkive_core.validation import (
    MAX_ALIASES,
    MAX_TAGS,
    check_alias,
    check_description,
    check_list,
    check_name,
    check_tag,
    check_type,
)

from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rgrpc

from ._feature import Feature
from .engine.references import ReferenceFile
from .engine.types import FileInfo
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .aclient import AsyncClient


class Register(Feature):
    """register for AsyncClient."""

    async def register(
        self,
        name: str,
        uri: str,
        project: str | None = None,
        *,
        type: str = "dataset",
        max_objects: int | None = None,
        metadata: dict[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> ArtifactVersion:
        """Links objects already in arkive's bucket ("s3://<bucket>/prefix/" or one object) as the
        next version of `name`, without copying (like ZenML's register_artifact). The server reads
        and hashes each object once; identical content returns the existing version."""
        from .artifact import metadata_json as to_metadata_json  # artifact.py imports this module

        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise InvalidArgument(f"register takes an s3:// URI of arkive's bucket, not {uri!r}")
        req = rpb.RegisterObjectsRequest(
            project=check_name(project or self.project, "project"),
            name=check_name(name, "artifact name"),
            type=check_type(type),
            uri=uri,
            max_objects=max_objects or 0,
            metadata_json=to_metadata_json(metadata or {}),
            description=check_description(description),
            aliases=check_list(list(aliases), check_alias, "aliases", MAX_ALIASES),
            tags=check_list(list(tags), check_tag, "tags", MAX_TAGS),
        )
        stub = rgrpc.ReferenceServiceStub(self._ch())
        # Reading every object can take long: no short deadline.
        resp = await self._call(stub.RegisterObjects, req, timeout=max(self.timeout, 3600))
        return self._version(resp.version, created=resp.created)


async def split_artifact_refs(
    client: AsyncClient, refs: list[ReferenceFile]
) -> tuple[list[FileInfo], list[ReferenceFile]]:
    """arkive:// entries as blob files (read by digest, verified like any file), and the others.
    Each source version is resolved first: a deleted one fails with FailedPrecondition (its bytes
    may be collected); one the caller may not read is not checked (the digest still verifies)."""
    ours = [f for f in refs if f.reference.uri.startswith("arkive://")]
    for version_id in dict.fromkeys(f.reference.version_id for f in ours):
        try:
            await client.get_version(version_id)
        except NotFound as exc:
            uri = next(f.reference.uri for f in ours if f.reference.version_id == version_id)
            raise FailedPrecondition(f"source deleted: {uri} ({exc.message})") from None
        except PermissionDenied:
            pass
    blobs = [FileInfo(f.path, f.digest, f.size) for f in ours]
    return blobs, [f for f in refs if not f.reference.uri.startswith("arkive://")]
