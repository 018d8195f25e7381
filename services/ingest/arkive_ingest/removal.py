"""RemoveFiles: drop entries from an open draft by exact path or folder prefix (a draft started
from a base version loses the files the new version should not have). All or nothing: a path or
prefix matching no entry is NOT_FOUND and nothing is removed."""

from __future__ import annotations

import time

import asyncpg
from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.limits import MAX_REMOVALS_PER_CALL
from arkive_core.validation import check_path

from arkive_common import api, eventlog
from arkive_common.events import DraftFilesRemoved

from .handlers import apply_and_append, draft_stream, open_draft
from .incremental import UNDER


def _checked(values: list[str]) -> list[str]:
    # Server side a path must already be canonical; duplicates are harmless and dropped.
    return list(dict.fromkeys(check_path(v) for v in values))


def _shown(values: list[str]) -> str:
    more = f" and {len(values) - 5} more" if len(values) > 5 else ""
    return ", ".join(repr(v) for v in values[:5]) + more


# A draft's entries: its files and its references (references.py), removed alike.
ENTRIES = (
    "(SELECT draft_id, path FROM ingest_draft_entries UNION ALL SELECT draft_id, path FROM ingest_draft_references)"
)


class RemovalHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def remove_files(self, cmd: api.RemoveFiles) -> api.FilesRemoved:
        if len(cmd.paths) + len(cmd.prefixes) > MAX_REMOVALS_PER_CALL:
            raise InvalidArgument(f"at most {MAX_REMOVALS_PER_CALL} paths and prefixes per RemoveFiles call")
        paths, prefixes = _checked(cmd.paths), _checked(cmd.prefixes)
        if not paths and not prefixes:
            raise InvalidArgument("nothing to remove: give paths or prefixes")
        async with self.pool.acquire() as conn, conn.transaction():
            # FOR UPDATE: a concurrent add or commit of this draft waits, so what was checked is what is removed.
            draft = await open_draft(conn, cmd.draft_id, "FOR UPDATE")
            missing = await conn.fetch(
                f"SELECT p FROM unnest($2::text[]) AS p WHERE NOT EXISTS (SELECT 1 FROM {ENTRIES} e"
                " WHERE e.draft_id = $1 AND e.path = p)",
                cmd.draft_id,
                paths,
            )
            if missing:
                raise NotFound(f"not in draft {cmd.draft_id}: {_shown([r['p'] for r in missing])}; nothing removed")
            missing = await conn.fetch(
                f"SELECT p FROM unnest($2::text[]) AS p WHERE NOT EXISTS (SELECT 1 FROM {ENTRIES} e"
                f" WHERE e.draft_id = $1 AND {UNDER})",
                cmd.draft_id,
                prefixes,
            )
            if missing:
                raise NotFound(
                    f"no file at or below {_shown([r['p'] for r in missing])} in draft {cmd.draft_id}; nothing removed"
                )
            before = await conn.fetchval(f"SELECT count(*) FROM {ENTRIES} e WHERE e.draft_id = $1", cmd.draft_id)
            event = DraftFilesRemoved(draft_id=cmd.draft_id, paths=paths, prefixes=prefixes, removed_at=time.time())
            await apply_and_append(conn, [eventlog.Append(draft_stream(draft["draft_id"]), [event], None)])
            after = await conn.fetchval(f"SELECT count(*) FROM {ENTRIES} e WHERE e.draft_id = $1", cmd.draft_id)
        return api.FilesRemoved(removed=before - after, file_count=after)
