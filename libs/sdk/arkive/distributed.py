"""Distributed drafts on AsyncClient: many workers upsert files into one draft, one finishes it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from arkive_core.errors import InvalidArgument
from arkive_core.validation import (
    check_description,
    check_name,
)

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._convert import add_files_batches, draft_from_proto
from ._feature import Feature
from ._incremental import refuse_base
from ._log_options import LogOptions
from .artifact import Artifact
from .artifact import metadata_json as to_metadata_json
from .engine import operations
from .engine.files import HashedFile
from .engine.local import hash_local, local_files, split_name
from .engine.progress import NullProgress, make_progress
from .version import ArtifactVersion, Draft, UpsertResult


class Distributed(Feature):
    """upsert_artifact, finish_artifact, drafts and abort_draft of AsyncClient (it provides project,
    progress, timeout, _artifacts, _blobs, _call, _call_idempotent, _version and _idempotent_timeout)."""

    async def upsert_artifact(
        self,
        artifact: Artifact,
        project: str | None = None,
        *,
        distributed_id: str,
        overwrite: bool = False,
        start_new: bool = False,
    ) -> UpsertResult:
        """Adds the artifact's files to the distributed draft of project/name named `distributed_id`.

        Many workers upsert into one draft (the first upsert opens it); one finish_artifact then
        commits it as exactly one version. Files are hashed, missing blobs uploaded, then the
        entries sent in batches. Sending an entry again is a no-op, so this whole call is safe to
        retry (it retries transient failures itself). A path another worker already added with
        different content fails with FailedPrecondition unless overwrite=True; an upsert after the
        finish fails unless start_new=True, which opens the next draft for this distributed id.
        The artifact's metadata and description are not sent: they belong to finish_artifact.
        """
        refuse_base(artifact, "upsert_artifact")
        project = check_name(project or self.project, "project")
        distributed_id = check_name(distributed_id, "distributed id")
        local = local_files(artifact)
        with make_progress(self.progress) as progress:
            hashed = await hash_local(local, progress)
            return await self._upsert(project, artifact, hashed, distributed_id, overwrite, start_new, progress)

    async def _upsert(
        self,
        project: str,
        artifact: Artifact,
        hashed: list[HashedFile],
        distributed_id: str,
        overwrite: bool,
        start_new: bool,
        progress: NullProgress,
    ) -> UpsertResult:
        files_up, bytes_up = await operations.upload(self._conn, hashed, progress)
        stub = self._artifacts
        # Even an empty artifact sends one (empty) upsert: it opens the draft.
        resp = None
        for i, batch in enumerate(add_files_batches(hashed) or [[]]):
            request = apb.UpsertFilesRequest(
                project=project,
                name=artifact.name,
                type=artifact.type,
                distributed_id=distributed_id,
                files=batch,
                overwrite=overwrite,
                # Only the first batch may open a new draft; the next ones must land in that one.
                start_new=start_new and i == 0,
            )
            resp = await self._call_idempotent(stub.UpsertFiles, request)
        assert resp is not None
        return UpsertResult(
            project=project,
            name=artifact.name,
            type=artifact.type,
            distributed_id=distributed_id,
            draft_id=resp.draft_id,
            file_count=int(resp.file_count),
            files_upserted=len(hashed),
            files_uploaded=files_up,
            bytes_uploaded=bytes_up,
        )

    async def finish_artifact(
        self,
        artifact: Artifact | str,
        project: str | None = None,
        *,
        distributed_id: str,
        metadata: dict[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
    ) -> ArtifactVersion:
        """Commits the distributed draft as one version; returns it (created=True if this call made it).

        `artifact` is an Artifact or a name ("[project/]name"). An Artifact's files are upserted
        first (like W&B's finish_artifact), and its metadata and description are used unless
        `metadata`/`description` are given. A finish after the draft was finished (by another
        worker, or a retry of this one) returns the same version with created=False; finishing a
        distributed id nothing was upserted into raises NotFound.
        """
        distributed_id = check_name(distributed_id, "distributed id")
        options = LogOptions(aliases, tags, label, run_id).checked()
        hashed: list[HashedFile] = []
        if isinstance(artifact, Artifact):
            refuse_base(artifact, "finish_artifact")
            project, name = check_name(project or self.project, "project"), artifact.name
            meta = artifact.metadata if metadata is None else metadata
            description = check_description(description or artifact.description)
            local = local_files(artifact)
        else:
            project, name = split_name(artifact, project or self.project)
            meta = metadata or {}
            description = check_description(description or "")
            local = []
        meta_json = to_metadata_json(meta)
        upserted = None
        if local:
            with make_progress(self.progress) as progress:
                hashed = await hash_local(local, progress)
                assert isinstance(artifact, Artifact)
                upserted = await self._upsert(project, artifact, hashed, distributed_id, False, False, progress)
        request = apb.FinishDistributedRequest(
            project=project,
            name=name,
            distributed_id=distributed_id,
            metadata_json=meta_json,
            description=description,
            **options.keywords(),  # run_id: the run that produced the version (an output edge); it must be running
        )
        # Idempotent: a retry after a lost answer gets the version the first attempt committed.
        resp = await self._call_idempotent(self._artifacts.FinishDistributed, request)
        return self._version(
            resp.version,
            created=resp.created,
            files_uploaded=upserted.files_uploaded if upserted else 0,
            bytes_uploaded=upserted.bytes_uploaded if upserted else 0,
        )

    async def drafts(self, project: str | None = None, idle_seconds: float = 0) -> list[Draft]:
        """Open drafts of a project (least recently changed first); with idle_seconds, only those
        unchanged for at least that long (abandoned distributed runs, say)."""
        project = check_name(project or self.project, "project")
        if not isinstance(idle_seconds, int | float) or idle_seconds < 0 or idle_seconds != idle_seconds:
            raise InvalidArgument(f"idle_seconds must be a non-negative number, got {idle_seconds!r}")
        request = apb.ListDraftsRequest(project=project, idle_seconds=math.ceil(idle_seconds))
        resp = await self._call_idempotent(self._artifacts.ListDrafts, request)
        return [draft_from_proto(d) for d in resp.drafts]

    async def abort_draft(self, draft: str | Draft) -> None:
        """Aborts an open draft: its files are forgotten. Not retried (a second abort fails)."""
        draft_id = draft.draft_id if isinstance(draft, Draft) else draft
        if not isinstance(draft_id, str) or not draft_id.strip():
            raise InvalidArgument("empty draft id")
        await self._call(self._artifacts.AbortDraft, apb.AbortDraftRequest(draft_id=draft_id.strip()))
