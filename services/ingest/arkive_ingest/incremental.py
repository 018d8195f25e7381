"""Incremental versions: a draft that starts from a base version, and removing entries from a draft.

A draft created with a base (`DraftCreated.base_version_id`) starts with every entry of that
version. The entries are not repeated in the event (a base may hold a million files, far more than
one event should carry): the read model copies them from the base's manifest in one INSERT .. SELECT.
That manifest is written when the base's VersionCommitted is applied, which is earlier in the log
than any draft based on it, so a rebuild replays the copy identically. Manifests are never deleted
(a purge only marks the version), so the copy cannot find them gone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from arkive_core.errors import InvalidArgument
from arkive_core.refs import parse_ref
from arkive_core.validation import check_type

from arkive_common import api
from arkive_common.events import DraftFilesRemoved

from . import queries

# An entry matched by a folder prefix p: the file "p" itself or anything below "p/"
# (never "p-other" or "partition.txt" for p = "part").
UNDER = "(e.path = p OR starts_with(e.path, p || '/'))"


async def resolve_base(conn: asyncpg.Connection, cmd: api.CreateDraft) -> tuple[str, str]:
    """(version id, type) of the base of a new draft of cmd.project/cmd.name.

    Like W&B's new_draft, a base must be a version of the same artifact: a draft of another
    collection would silently mix two artifacts' histories (use a link or a plain log for that).
    """
    ref = str(parse_ref(cmd.base_ref, cmd.project))  # "mnist:v3" means a version of cmd.project
    base = await queries.resolve(conn, ref)  # NOT_FOUND if unknown or deleted
    if (base.project, base.name) != (cmd.project, cmd.name):
        raise InvalidArgument(
            f"base {cmd.base_ref!r} is {base.project}/{base.name}:v{base.version}; a draft of"
            f" {cmd.project}/{cmd.name} can only start from a version of {cmd.project}/{cmd.name}"
        )
    if cmd.type and cmd.type != base.type:
        check_type(cmd.type)
        raise InvalidArgument(
            f"{cmd.project}/{cmd.name} is of type {base.type!r}; a draft of type {cmd.type!r} cannot start from it"
        )
    return base.version_id, base.type


async def copy_base(conn: asyncpg.Connection, draft_id: str, base_version_id: str) -> None:
    """Read model: the new draft's entries are the base version's manifest (set-based, no per-row Python)."""
    await conn.execute(
        "INSERT INTO ingest_draft_entries (draft_id, path, digest, size)"
        " SELECT $1, m.path, m.digest, m.size FROM ingest_versions v"
        " JOIN ingest_manifest_entries m ON m.manifest_digest = v.manifest_digest WHERE v.version_id = $2",
        draft_id,
        base_version_id,
    )
    await conn.execute(
        "INSERT INTO ingest_draft_references (draft_id, path, uri, etag, version_id, checksum, digest, size)"
        " SELECT $1, r.path, r.uri, r.etag, r.version_id, r.checksum, r.digest, r.size FROM ingest_versions v"
        " JOIN ingest_manifest_references r ON r.manifest_digest = v.manifest_digest WHERE v.version_id = $2",
        draft_id,
        base_version_id,
    )


async def apply_removal(conn: asyncpg.Connection, event: DraftFilesRemoved) -> None:
    """Read model: drop the removed entries (files and references) of the draft."""
    for table in ("ingest_draft_entries", "ingest_draft_references"):
        await conn.execute(
            f"DELETE FROM {table} e WHERE e.draft_id = $1 AND (e.path = ANY($2::text[])"
            f" OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS p WHERE {UNDER}))",
            event.draft_id,
            event.paths,
            event.prefixes,
        )
    await conn.execute(
        "UPDATE ingest_drafts SET updated_at = $2 WHERE draft_id = $1",
        event.draft_id,
        datetime.fromtimestamp(event.removed_at, UTC),
    )
