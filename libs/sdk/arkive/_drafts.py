"""Filling a draft and committing it: what a plain log and a log of a based draft share.

Files are added to the draft while the upload runs: the ones whose blobs the server already
holds at once, the others as each pack (or batch of large files) is stored. The server checks at
every AddFiles that the blobs are stored, so an entry never points at bytes still in flight, and
the draft's last AddFiles is done about when the last upload is, not one pass after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._convert import add_files_batches
from ._files import HashedFile
from ._progress import NullProgress
from ._references import send_references
from ._transfer import upload_missing
from .artifact import Artifact

if TYPE_CHECKING:
    from .aclient import AsyncClient


async def upload_into_draft(
    client: AsyncClient,
    draft_id: str,
    hashed: list[HashedFile],
    progress: NullProgress,
    missing: set[str] | None = None,
) -> tuple[int, int]:
    """Uploads the missing blobs and adds every file to the draft; returns (files, bytes) sent."""
    by_digest: dict[str, list[HashedFile]] = {}
    for f in hashed:
        by_digest.setdefault(f.digest, []).append(f)
    stub = client._artifacts

    async def add(digests: list[str]) -> None:
        files = [f for d in digests for f in by_digest.pop(d, ())]  # each path once
        for batch in add_files_batches(files):
            await client._call(stub.AddFiles, apb.AddFilesRequest(draft_id=draft_id, files=batch))

    return await upload_missing(
        client._blobs, hashed, client.address, client.timeout, progress, on_stored=add, missing=missing
    )


async def commit_draft(
    client: AsyncClient,
    draft_id: str,
    artifact: Artifact,
    metadata_json: str,
    aliases: Sequence[str],
    tags: Sequence[str],
    label: str,
    run_id: str,
) -> apb.CommitDraftResponse:
    """Adds the artifact's references to the (filled) draft and commits it."""
    if artifact.references:
        await send_references(client._ch(), draft_id, artifact.references, client._call)
    request = apb.CommitDraftRequest(
        draft_id=draft_id,
        metadata_json=metadata_json,
        description=artifact.description,
        aliases=list(aliases),
        tags=list(tags),
        label=label,
        run_id=run_id,
    )
    return await client._call(client._artifacts.CommitDraft, request)


async def abort_quietly(client: AsyncClient, draft_id: str) -> None:
    """Leaves no open draft behind a failed log (its entries would keep blobs from GC). The
    original error matters more than a failed abort (e.g. the commit did go through)."""
    try:
        await client._call(client._artifacts.AbortDraft, apb.AbortDraftRequest(draft_id=draft_id), timeout=10)
    except BaseException:
        pass
