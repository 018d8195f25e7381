"""Read side of ingest: resolving refs and listing versions, collections and files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
import msgspec
from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.refs import parse_ref
from arkive_core.validation import normalize_path

from arkive_common import api, eventlog
from arkive_common import api_batch as ab
from arkive_common.db import load_jsonb
from arkive_common.events import AliasAssigned, AliasRemoved, VersionCommitted

from . import references, registry_model

T = TypeVar("T")

_VERSION_SQL = """
SELECT v.*, coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM ingest_aliases a
                      WHERE a.project = v.project AND a.name = v.name AND a.version_id = v.version_id),
                     '{}') AS aliases
FROM ingest_versions v
"""


def to_view(row: asyncpg.Record) -> api.VersionView:
    return api.VersionView(
        version_id=row["version_id"],
        project=row["project"],
        name=row["name"],
        type=row["type"],
        version=row["version"],
        manifest_digest=row["manifest_digest"],
        file_count=row["file_count"],
        total_size=row["total_size"],
        metadata=load_jsonb(row["metadata"]),
        description=row["description"],
        aliases=list(row["aliases"]),
        tags=list(row["tags"]),
        label=row["label"],
        created_at=row["created_at"].timestamp(),
        linked_from=row.get("linked_from") or "",
    )


async def version_by_id(conn: asyncpg.Connection | asyncpg.Pool, version_id: str) -> api.VersionView:
    row = await conn.fetchrow(_VERSION_SQL + " WHERE v.version_id = $1", version_id)
    if row is None:
        raise NotFound(f"no artifact version with id {version_id}")
    return to_view(_live(row))


def _live(row: asyncpg.Record) -> asyncpg.Record:
    """Deleted versions are hidden from every read (undelete finds them through tombstones)."""
    if row["deleted_at"] is not None:
        raise NotFound(f"{row['project']}/{row['name']}:v{row['version']} was deleted")
    return row


async def resolve(conn: asyncpg.Connection | asyncpg.Pool, text: str) -> api.VersionView:
    """Resolves "[project/]name[:vN|alias|label]" or a version id. Aliases win over labels."""
    ref = parse_ref(text)
    if ref.version_id:
        return await version_by_id(conn, ref.version_id)
    number = ref.version_number
    if number is not None:
        row = await conn.fetchrow(
            _VERSION_SQL + " WHERE v.project = $1 AND v.name = $2 AND v.version = $3", ref.project, ref.name, number
        )
        if row is None:  # link N of a registry collection (links.py) is the version it links
            row = await conn.fetchrow(
                _VERSION_SQL + " WHERE v.version_id = (SELECT version_id FROM ingest_links"
                " WHERE project = $1 AND name = $2 AND version = $3)",
                ref.project,
                ref.name,
                number,
            )
    else:
        row = await conn.fetchrow(
            _VERSION_SQL + " WHERE v.version_id = (SELECT version_id FROM ingest_aliases"
            " WHERE project = $1 AND name = $2 AND alias = $3)",
            ref.project,
            ref.name,
            ref.selector,
        ) or await conn.fetchrow(
            _VERSION_SQL + " WHERE v.project = $1 AND v.name = $2 AND v.label = $3",
            ref.project,
            ref.name,
            ref.selector,
        )
    if row is not None:
        return to_view(_live(row))
    exists = await conn.fetchrow(
        "SELECT version_count, deleted_count FROM ingest_collections WHERE project = $1 AND name = $2",
        ref.project,
        ref.name,
    )
    if not exists:
        raise NotFound(f"artifact {ref.project}/{ref.name} not found")
    if exists["version_count"] == exists["deleted_count"]:
        raise NotFound(f"artifact {ref.project}/{ref.name} was deleted")
    what = f"version v{number}" if number is not None else f"alias or label {ref.selector!r}"
    raise NotFound(f"artifact {ref.project}/{ref.name} has no {what}")


async def resolve_many(pool: asyncpg.Pool, q: ab.GetVersions) -> ab.VersionsFound:
    """resolve() of each ref, in one snapshot; a ref that is not found is listed with its reason."""
    if len(q.refs) > ab.MAX_REFS_PER_CALL:
        raise InvalidArgument(f"at most {ab.MAX_REFS_PER_CALL} refs per call")
    found, missing = [], []
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        for ref in q.refs:
            try:
                found.append(await resolve(conn, ref))
            except NotFound as exc:
                missing.append(ab.MissingVersion(ref, exc.message))
    return ab.VersionsFound(found, missing)


async def resolve_as_of(conn: asyncpg.Pool, text: str, as_of: float) -> api.VersionView:
    """Resolves a ref as it resolved at `as_of`, answered from the collection's event stream: the
    versions committed and the aliases as they pointed by then."""
    ref = parse_ref(text)
    version_id = ref.version_id
    if not version_id:
        number = ref.version_number
        alias_target: dict[str, str] = {}
        by_number: dict[int, str] = {}
        by_label: dict[str, str] = {}
        for env in await eventlog.read_stream(conn, f"collection-{ref.project}/{ref.name}"):
            if env.recorded_at > as_of:
                break
            event = env.event()
            if isinstance(event, VersionCommitted):
                by_number[event.version] = event.version_id
                if event.label:
                    by_label[event.label] = event.version_id
            elif isinstance(event, AliasAssigned):
                alias_target[event.alias] = event.version_id
            elif isinstance(event, AliasRemoved):  # removed by hand (set_aliases) or with its version
                alias_target.pop(event.alias, None)
        if number is not None:
            version_id = by_number.get(number, "")
        else:
            version_id = alias_target.get(ref.selector) or by_label.get(ref.selector, "")
        if not version_id:
            raise NotFound(f"{ref} did not resolve to any version at {_iso(as_of)}")
    view = await version_by_id(conn, version_id)
    if view.created_at > as_of:
        raise NotFound(f"{text} did not exist yet at {_iso(as_of)}")
    return view


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


async def find_by_manifest(conn: asyncpg.Pool, req: api.FindByManifest) -> api.MaybeVersion:
    row = await conn.fetchrow(
        _VERSION_SQL + " WHERE v.project = $1 AND v.name = $2 AND v.manifest_digest = $3 AND v.deleted_at IS NULL"
        " ORDER BY v.version LIMIT 1",
        req.project,
        req.name,
        req.manifest_digest,
    )
    return api.MaybeVersion(version=to_view(row) if row else None)


def _page_size(size: int, default: int, limit: int) -> int:
    if size < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(size or default, limit)


def _int_token(token: str) -> int | None:
    if not token:
        return None
    try:
        return int(token)
    except ValueError:
        raise InvalidArgument(f"invalid page_token {token!r}") from None


# A page is one gRPC message to the client (gRPC's default limit is 4 MiB) and is held whole by
# the services on its way: 5,000 entries of long paths, or 100 versions with 64 KiB of metadata
# each, are cut at this many bytes.
PAGE_BYTES = 512 * 1024


def _fit(items: list[T], budget: int, as_sent: Callable[[T], object] = lambda item: item) -> list[T]:
    """The first items whose msgpack encodings (of as_sent(item)) fit in `budget` bytes (always at
    least one)."""
    total = 0
    for i, item in enumerate(items):
        total += len(msgspec.msgpack.encode(as_sent(item)))
        if total > budget and i:
            return items[:i]
    return items


async def list_versions(conn: asyncpg.Pool, req: api.ListVersions) -> api.VersionPage:
    size = _page_size(req.page_size, 100, 1000)
    before = _int_token(req.page_token)
    if await registry_model.is_link_collection(conn, req.project, req.name):
        # The versions of a collection of links are its links, in its own numbering.
        rows = await registry_model.link_rows(conn, req.project, req.name, before, size + 1)
    else:
        rows = await conn.fetch(
            _VERSION_SQL + " WHERE v.project = $1 AND v.name = $2 AND ($3::int IS NULL OR v.version < $3)"
            " AND v.deleted_at IS NULL"
            " ORDER BY v.version DESC LIMIT $4",
            req.project,
            req.name,
            before,
            size + 1,
        )
    if not rows and before is None:
        if not await conn.fetchval(
            "SELECT 1 FROM ingest_collections WHERE project = $1 AND name = $2", req.project, req.name
        ):
            raise NotFound(f"artifact {req.project}/{req.name} not found")
    views = _fit([to_view(r) for r in rows[:size]], PAGE_BYTES)  # metadata may be 64 KiB a version
    more = len(rows) > len(views)
    return api.VersionPage(versions=views, next_page_token=str(views[-1].version) if more else "")


async def list_artifacts(conn: asyncpg.Pool, req: api.ListArtifacts) -> api.CollectionPage:
    size = _page_size(req.page_size, 100, 1000)
    rows = await conn.fetch(
        # Collections whose versions are all deleted are hidden; latest is the alias (it moves back
        # when the newest version is deleted).
        "SELECT c.*, c.version_count - c.deleted_count AS live_count, coalesce((SELECT a.version_id"
        " FROM ingest_aliases a WHERE a.project = c.project AND a.name = c.name AND a.alias = 'latest'), '')"
        " AS latest_id FROM ingest_collections c WHERE project = $1 AND ($2 = '' OR type = $2) AND name > $3"
        " AND c.version_count > c.deleted_count ORDER BY name LIMIT $4",
        req.project,
        req.type,
        req.page_token,
        size + 1,
    )
    latest = {}
    ids = [r["latest_id"] for r in rows[:size] if r["latest_id"]]
    if ids:
        for v in await conn.fetch(_VERSION_SQL + " WHERE v.version_id = ANY($1::text[])", ids):
            latest[v["version_id"]] = to_view(v)
    # A collection of links shows its newest link (its number, the source ref) and its live links.
    link_latest, link_counts = await registry_model.collection_links(
        conn, req.project, [r["name"] for r in rows[:size]], to_view
    )
    views = [
        api.CollectionView(
            project=r["project"],
            name=r["name"],
            type=r["type"],
            version_count=link_counts.get(r["name"], r["live_count"]),
            created_at=r["created_at"].timestamp(),
            latest=link_latest.get((r["name"], r["latest_id"])) or latest.get(r["latest_id"]),
        )
        for r in rows[:size]
    ]
    views = _fit(views, PAGE_BYTES)  # each carries its latest version's metadata
    more = len(rows) > len(views)
    token = views[-1].name if more else ""
    # Links whose sources are all deleted leave nothing to list (the page may come out short).
    views = [v for v in views if link_counts.get(v.name) != 0]
    return api.CollectionPage(artifacts=views, next_page_token=token)


async def list_files(conn: asyncpg.Pool, req: api.ListFiles) -> api.FilePage:
    size = _page_size(req.page_size, 1000, 5000)
    version = await resolve(conn, req.ref)
    prefix = normalize_path(req.path_prefix) if req.path_prefix else ""
    rows = await references.list_page(conn, version.manifest_digest, req.page_token, size + 1, prefix)
    kept = _fit(rows[:size], PAGE_BYTES, tuple)  # a row's fields: its file entry and any reference
    more = len(rows) > len(kept)
    rows = kept
    return api.FilePage(
        files=[(r["path"], r["digest"], r["size"]) for r in rows],
        next_page_token=rows[-1]["path"] if more else "",
        references=[(r["path"], r["uri"], r["etag"], r["version_id"], r["checksum"]) for r in rows if r["uri"]],
    )
