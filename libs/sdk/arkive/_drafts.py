"""Filling a draft and committing it: what a plain log and a log of a based draft share.

Files are added to the draft while the upload runs: the ones whose blobs the server already
holds at once, the others as each pack (or batch of large files) is stored. The server checks at
every AddFiles that the blobs are stored, so an entry never points at bytes still in flight, and
the draft's last AddFiles is done about when the last upload is, not one pass after it. The files
of the upload that finished last travel with CommitDraft, where the server takes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc

from ._convert import add_files_batches
from ._log_options import LogOptions
from .artifact import Artifact
from .engine.early import EarlyPacks
from .engine.files import HashedFile
from .engine.progress import NullProgress
from .engine.references import send_references
from .engine.transfer import upload_missing
from .version import ArtifactVersion

if TYPE_CHECKING:
    from ._connection import Connection
    from .aclient import AsyncClient


@dataclass(slots=True)
class Filled:
    """What upload_into_draft did: files and bytes sent, and the files left for the commit."""

    files_uploaded: int
    bytes_uploaded: int
    last: list[HashedFile] = field(default_factory=list)


async def upload_into_draft(
    conn: Connection,
    draft_id: str,
    hashed: list[HashedFile],
    progress: NullProgress,
    missing: set[str] | None = None,
    commit_takes_files: bool = False,
    early: EarlyPacks | None = None,
) -> Filled:
    """Uploads the missing blobs and adds every file to the draft, except, if the server's commit
    takes files, those whose blobs were stored last: they go with the commit (Filled.last)."""
    by_digest: dict[str, list[HashedFile]] = {}
    for f in hashed:
        by_digest.setdefault(f.digest, []).append(f)
    stub = agrpc.ArtifactServiceStub(conn.channel())
    last: list[HashedFile] = []

    async def add(digests: list[str]) -> None:
        files = [f for d in digests for f in by_digest.pop(d, ())]  # each path once
        for batch in add_files_batches(files):
            await conn.call(stub.AddFiles, apb.AddFilesRequest(draft_id=draft_id, files=batch))

    def keep_for_commit(digests: list[str]) -> None:
        last.extend(f for d in digests for f in by_digest.pop(d, ()))

    sent = await upload_missing(
        conn.blobs(),
        hashed,
        conn.address,
        conn.timeout,
        progress,
        on_stored=add,
        missing=missing,
        on_last=keep_for_commit if commit_takes_files else None,
        early=early,
    )
    return Filled(*sent, last)


async def commit_draft(
    conn: Connection,
    draft_id: str,
    artifact: Artifact,
    metadata_json: str,
    options: LogOptions,
    files: Sequence[HashedFile] = (),
) -> apb.CommitDraftResponse:
    """Adds the artifact's references and `files` to the (filled) draft and commits it; the last
    batch of files travels in the CommitDraft request itself."""
    stub = agrpc.ArtifactServiceStub(conn.channel())
    batches = add_files_batches(list(files)) or [[]]
    for batch in batches[:-1]:
        await conn.call(stub.AddFiles, apb.AddFilesRequest(draft_id=draft_id, files=batch))
    sources = await send_references(conn.channel(), draft_id, artifact.references, conn.call)
    request = apb.CommitDraftRequest(
        draft_id=draft_id,
        metadata_json=metadata_json,
        description=artifact.description,
        files=batches[-1],
        **options.keywords(),
    )
    resp = await conn.call(stub.CommitDraft, request)
    if options.run_id and sources:  # arkive:// references: the run used the versions they were pinned to
        from arkive_proto.v1 import lineage_service_pb2 as lpb
        from arkive_proto.v1 import lineage_service_pb2_grpc as lgrpc

        lineage = lgrpc.LineageServiceStub(conn.channel())
        for version_id in sources:
            await conn.call(lineage.UseArtifact, lpb.UseArtifactRequest(run_id=options.run_id, ref=version_id))
    return resp


async def logged(client: AsyncClient, resp: apb.CommitDraftResponse, filled: Filled, ttl: Any) -> ArtifactVersion:
    """The committed version as the log returns it, with its TTL set if one was asked for."""
    from .retention import INHERIT

    version = client._version(
        resp.version, created=resp.created, files_uploaded=filled.files_uploaded, bytes_uploaded=filled.bytes_uploaded
    )
    if ttl != INHERIT and resp.created:
        await client.set_ttl(version, ttl)
    return version


async def abort_quietly(conn: Connection, draft_id: str) -> None:
    """Leaves no open draft behind a failed log (its entries would keep blobs from GC). The
    original error matters more than a failed abort (e.g. the commit did go through)."""
    try:
        stub = agrpc.ArtifactServiceStub(conn.channel())
        await conn.call(stub.AbortDraft, apb.AbortDraftRequest(draft_id=draft_id), timeout=10)
    except BaseException:
        pass
