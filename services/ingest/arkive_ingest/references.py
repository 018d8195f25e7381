"""Reference entries of drafts and versions: data outside arkive's content index (S3 objects,
HTTP(S) URLs, files on a client's disk), recorded by URI and what the source was, never copied.

Kept apart from ordinary entries (ingest_draft_entries / ingest_manifest_entries, which GC reads to
decide which blobs are alive): a reference holds no blob. The draft commit takes references into
account through `manifest_tokens` (count, size, manifest digest, file/folder layout), and the
projection copies them into `ingest_manifest_references` on VersionCommitted.
"""

from __future__ import annotations

import hashlib
import time

import asyncpg
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound

from arkive_common import api, eventlog
from arkive_common import api_refs as ar
from arkive_common.events import DraftReferencesAdded, VersionCommitted

TABLES = ("ingest_draft_references", "ingest_manifest_references")

MIGRATION = """
CREATE TABLE ingest_draft_references (
    draft_id text NOT NULL, path text NOT NULL, uri text NOT NULL, etag text NOT NULL,
    version_id text NOT NULL, checksum boolean NOT NULL, digest text NOT NULL, size bigint NOT NULL,
    PRIMARY KEY (draft_id, path));
CREATE TABLE ingest_manifest_references (
    manifest_digest text NOT NULL, path text NOT NULL, uri text NOT NULL, etag text NOT NULL,
    version_id text NOT NULL, checksum boolean NOT NULL, digest text NOT NULL, size bigint NOT NULL,
    PRIMARY KEY (manifest_digest, path));
"""

_COLUMNS = "path, uri, etag, version_id, checksum, digest, size"


def token(uri: str, etag: str, version_id: str, checksum: bool, digest: str) -> str:
    """What stands for a reference's content in the manifest digest: a changed ETag, version or
    sha256 makes a new manifest (a new version); the same source gives the same manifest."""
    h = hashlib.sha256(f"{uri}\0{etag}\0{version_id}\0{int(checksum)}\0{digest}".encode())
    return "ref:" + h.hexdigest()


async def apply(conn: asyncpg.Connection, event: DraftReferencesAdded) -> None:
    await conn.executemany(
        f"INSERT INTO ingest_draft_references (draft_id, {_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (draft_id, path) DO UPDATE SET uri = EXCLUDED.uri, etag = EXCLUDED.etag,"
        " version_id = EXCLUDED.version_id, checksum = EXCLUDED.checksum, digest = EXCLUDED.digest,"
        " size = EXCLUDED.size",
        [(event.draft_id, *e) for e in event.entries],
    )
    if event.added_at:
        await conn.execute(
            "UPDATE ingest_drafts SET updated_at = to_timestamp($2) WHERE draft_id = $1", event.draft_id, event.added_at
        )


async def on_version_committed(conn: asyncpg.Connection, event: VersionCommitted) -> None:
    """Identical manifests share their reference rows, as ordinary entries do."""
    await conn.execute(
        f"INSERT INTO ingest_manifest_references (manifest_digest, {_COLUMNS})"
        f" SELECT $1, {_COLUMNS} FROM ingest_draft_references WHERE draft_id = $2 ON CONFLICT DO NOTHING",
        event.manifest_digest,
        event.draft_id,
    )


async def on_draft_closed(conn: asyncpg.Connection, draft_id: str) -> None:
    await conn.execute("DELETE FROM ingest_draft_references WHERE draft_id = $1", draft_id)


async def manifest_tokens(conn: asyncpg.Connection, draft_id: str, file_paths: set[str]) -> list[tuple[str, str, int]]:
    """The draft's references as manifest entries (path, token, size); a path that is both a file
    and a reference is refused (FAILED_PRECONDITION)."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM ingest_draft_references WHERE draft_id = $1", draft_id)
    both = sorted(r["path"] for r in rows if r["path"] in file_paths)
    if both:
        raise FailedPrecondition(f"{both[0]!r} is both a file and a reference in this draft")
    return [
        (r["path"], token(r["uri"], r["etag"], r["version_id"], r["checksum"], r["digest"]), r["size"]) for r in rows
    ]


async def add_references(pool: asyncpg.Pool, cmd: ar.AddReferences, open_draft, draft_stream) -> api.FileCount:
    """Adds reference entries to an open draft (the gateway resolved s3/http sources itself)."""
    if len(cmd.entries) > ar.MAX_REFS_PER_CALL:
        raise InvalidArgument(f"at most {ar.MAX_REFS_PER_CALL} references per call")
    entries = {e.path: ar.check_entry(e).row() for e in cmd.entries}  # the last entry of a path wins
    rows = list(entries.values())
    async with pool.acquire() as conn, conn.transaction():
        await open_draft(conn, cmd.draft_id, "FOR SHARE")  # see handlers.add_files
        now = time.time()
        events = [DraftReferencesAdded(draft_id=cmd.draft_id, entries=b, added_at=now) for b in ar.batches(rows)]
        for event in events:
            await apply(conn, event)
        if events:
            await eventlog.append(conn, [eventlog.Append(draft_stream(cmd.draft_id), events, None)])
        count = await conn.fetchval(
            "SELECT (SELECT count(*) FROM ingest_draft_entries WHERE draft_id = $1)"
            " + (SELECT count(*) FROM ingest_draft_references WHERE draft_id = $1)",
            cmd.draft_id,
        )
    return api.FileCount(file_count=count)


async def get_reference(pool: asyncpg.Pool, req: ar.GetReference, resolve) -> ar.RefEntry:
    """The reference entry at `path` of the version `ref` resolves to."""
    version = await resolve(pool, req.ref)
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM ingest_manifest_references WHERE manifest_digest = $1 AND path = $2",
        version.manifest_digest,
        req.path,
    )
    if row is None:
        raise NotFound(f"{version.project}/{version.name}:v{version.version} has no reference at {req.path!r}")
    return ar.RefEntry(**dict(row))


async def list_page(
    conn: asyncpg.Pool, manifest_digest: str, after: str, limit: int, prefix: str = ""
) -> list[asyncpg.Record]:
    """Files and references of a manifest merged in path order (reference rows have a uri); with a
    prefix, only the file or folder `prefix` (starts_with is right under any collation, and on a
    C-collation database the planner turns it into an index range of the primary key)."""
    where = "manifest_digest = $1 AND path > $2" + (" AND (path = $4 OR starts_with(path, $5))" if prefix else "")
    args = (prefix, prefix + "/") if prefix else ()
    return await conn.fetch(
        "SELECT path, digest, size, NULL AS uri, '' AS etag, '' AS version_id, false AS checksum"
        f" FROM ingest_manifest_entries WHERE {where}"
        " UNION ALL SELECT path, digest, size, uri, etag, version_id, checksum"
        f" FROM ingest_manifest_references WHERE {where}"
        " ORDER BY path LIMIT $3",
        manifest_digest,
        after,
        limit,
        *args,
    )
