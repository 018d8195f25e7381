"""Logging a draft of a base version (ArtifactVersion.new_draft): only the changes travel.

The server opens a draft holding every entry of the base (CreateDraft base_ref), the removals are
sent as folder prefixes (a prefix "p" is the file "p" or everything below "p/", and a version can
never hold both), then the added files are hashed, only blobs the server lacks are uploaded, their
entries added (replacing base entries at the same paths), and the draft committed. Nothing of the
base is listed, downloaded or hashed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from arkive_core.errors import InvalidArgument
from arkive_core.validation import (
    check_description,
    check_name,
)

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._drafts import abort_quietly, commit_draft, logged, upload_into_draft
from ._log_options import LogOptions
from .artifact import Artifact
from .engine import operations
from .engine.local import hash_local, local_files, recording_after
from .engine.progress import make_progress
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .aclient import AsyncClient

# RemoveFiles takes at most 500 paths and prefixes per call (limits.MAX_REMOVALS_PER_CALL).
REMOVALS_PER_CALL = 500


def refuse_base(artifact: Artifact, method: str) -> None:
    """Distributed drafts start empty: a draft of a base version would silently lose the base's files."""
    if artifact.base is not None:
        raise InvalidArgument(f"{method} takes a new Artifact, not a draft of {artifact.base.ref}; use log_artifact")


def base_project(artifact: Artifact, project: str | None) -> str:
    """A draft is logged to its base's project; another project given explicitly is an error."""
    base = artifact.base
    assert base is not None
    if project is not None and check_name(project, "project") != base.project:
        raise InvalidArgument(
            f"{artifact!r} is a draft of {base.ref}; it can only be logged to project {base.project!r}, not {project!r}"
        )
    return base.project


async def log_based(
    client: AsyncClient,
    artifact: Artifact,
    project: str | None,
    options: LogOptions,
    ttl: Any,
) -> ArtifactVersion:
    """AsyncClient.log_artifact for an artifact with a base."""
    base = artifact.base
    assert base is not None
    project = base_project(artifact, project)
    options = options.checked()
    metadata_json = artifact.metadata_json()
    check_description(artifact.description)  # it may have been changed since the Artifact was made
    local = local_files(artifact)
    stub = client._artifacts
    # The exact base version by id: an alias moving meanwhile must not change what we start from.
    request = apb.CreateDraftRequest(
        project=project, name=artifact.name, type=artifact.type, base_ref=base.version_id, request_id=uuid.uuid4().hex
    )  # the request id makes CreateDraft safe to retry
    draft = await client._call(stub.CreateDraft, request)
    try:
        # Removals first: a wrong path fails the log before anything is hashed or uploaded.
        removals = artifact.removals
        for start in range(0, len(removals), REMOVALS_PER_CALL):
            chunk = removals[start : start + REMOVALS_PER_CALL]
            await client._call(stub.RemoveFiles, apb.RemoveFilesRequest(draft_id=draft.draft_id, prefixes=chunk))
        with make_progress(client.progress) as progress, recording_after() as deferred:
            async with operations.early_packs(client._conn) as early:
                hashed = await hash_local(local, progress, early, deferred)
                filled = await upload_into_draft(
                    client._conn, draft.draft_id, hashed, progress, None, draft.commit_takes_files, early
                )
        resp = await commit_draft(client._conn, draft.draft_id, artifact, metadata_json, options, filled.last)
    except BaseException:  # also Ctrl-C / cancellation during a long hash or upload
        await abort_quietly(client._conn, draft.draft_id)
        raise
    return await logged(client, resp, filled, ttl)
