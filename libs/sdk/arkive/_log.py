"""Logging a new artifact (AsyncClient.log_artifact without a base).

Its steps: hash the local files, sending packs of small files as soon as each pack's worth is
hashed (_early); ask whether this content is a version already (then nothing is committed) beside
which blobs of the rest are missing; open a draft; upload the rest while adding every stored file
to the draft; commit, with the files stored last carried by the commit itself.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from arkive_core.validation import (
    check_description,
    check_name,
)

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._drafts import abort_quietly, commit_draft, logged, upload_into_draft
from ._log_options import LogOptions
from .artifact import Artifact
from .engine import operations
from .engine.files import HashedFile, local_manifest_digest
from .engine.local import hash_local, local_files, recording_after
from .engine.progress import make_progress
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .aclient import AsyncClient


async def log_new(
    client: AsyncClient,
    artifact: Artifact,
    project: str | None,
    options: LogOptions,
    ttl: Any,
) -> ArtifactVersion:
    """AsyncClient.log_artifact for an artifact without a base."""
    project = check_name(project or client.project, "project")
    options = options.checked()
    metadata_json = artifact.metadata_json()
    check_description(artifact.description)  # it may have been changed since the Artifact was made
    local = local_files(artifact)
    with make_progress(client.progress) as progress, recording_after() as deferred:
        async with operations.early_packs(client._conn) as early:
            hashed = await hash_local(local, progress, early, deferred)
            found, missing = await _find(client, project, artifact.name, hashed, early.asked)
            # A same-content version of another type is left for the server to judge. With
            # references, only the server knows the content (ETags): it dedups at commit. A blob
            # of that version the server lacks was found corrupt and dropped (a scrub): it goes
            # through a draft so that it is uploaded again; the commit then dedups to that version.
            reusable = found.HasField("version") and not missing and not artifact.references
            if reusable and found.version.type == artifact.type:
                return await client._reuse(found.version, list(options.aliases))
            # The request id makes CreateDraft safe to retry: a repeat gets the same draft.
            request = apb.CreateDraftRequest(
                project=project, name=artifact.name, type=artifact.type, request_id=uuid.uuid4().hex
            )
            draft = await client._call(client._artifacts.CreateDraft, request)
            try:
                filled = await upload_into_draft(
                    client._conn, draft.draft_id, hashed, progress, missing, draft.commit_takes_files, early
                )
                resp = await commit_draft(client._conn, draft.draft_id, artifact, metadata_json, options, filled.last)
            except BaseException:  # also Ctrl-C / cancellation during a long upload
                await abort_quietly(client._conn, draft.draft_id)
                raise
    return await logged(client, resp, filled, ttl)


async def _find(
    client: AsyncClient, project: str, name: str, hashed: list[HashedFile], asked: set[str]
) -> tuple[apb.FindVersionByManifestResponse, set[str]]:
    """(the version with this content, if any; which blobs not asked about early are missing),
    asked at once."""
    digest = local_manifest_digest(hashed)
    request = apb.FindVersionByManifestRequest(project=project, name=name, manifest_digest=digest)
    digests = list({f.digest: None for f in hashed if f.digest not in asked})
    return await asyncio.gather(
        client._call(client._artifacts.FindVersionByManifest, request),
        operations.missing_blobs(client._conn, digests),
    )
