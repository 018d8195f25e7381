"""Registry links (W&B link_artifact): a version of one collection linked into another collection,
usually of another project ("registry/model-zoo-resnet"), without copying bytes. The link is a
VersionLinked event on the *target* collection's stream, so the target's link numbers, `latest`
and aliases are decided against that stream's expected version like any other collection change.
Aliases of a link collection name the source version's id, so refs to the registry collection
resolve through the ordinary alias lookup."""

from __future__ import annotations

import time

import asyncpg
from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.validation import MAX_ALIASES, check_alias, check_list, check_name

from arkive_common import api, eventlog
from arkive_common import api_catalog as ac

from . import domain_catalog, domain_registry, queries
from .annotate import load_catalog
from .handlers import apply_and_append, collection_stream, retrying


class LinkHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def link_version(self, cmd: ac.LinkVersion) -> ac.Linked:
        project, name = check_name(cmd.target_project, "project"), check_name(cmd.target_name)
        aliases = tuple(check_list(cmd.aliases, check_alias, "aliases", MAX_ALIASES))

        async def attempt(conn: asyncpg.Connection) -> ac.Linked:
            view = await queries.resolve(conn, cmd.ref)  # live versions only
            source = domain_catalog.Source(
                view.version_id, view.project, view.name, view.version, view.type, view.manifest_digest
            )
            state = await load_catalog(conn, project, name)
            decision = domain_catalog.decide_link(
                state, source, project=project, name=name, aliases=aliases, now=time.time()
            )
            if decision.events:
                stream = collection_stream(project, name)
                await apply_and_append(
                    conn, [eventlog.Append(stream, decision.events, state.collection.stream_version)]
                )
            held = await conn.fetch(
                "SELECT alias FROM ingest_aliases WHERE project = $1 AND name = $2 AND version_id = $3 ORDER BY alias",
                project,
                name,
                view.version_id,
            )
            return ac.Linked(
                version=view,
                target_project=project,
                target_name=name,
                link_version=decision.number,
                aliases=[r["alias"] for r in held],
                created=decision.created,
            )

        return await retrying(self.pool, attempt)

    async def unlink_version(self, cmd: ac.UnlinkVersion) -> ac.Unlinked:
        project, name = check_name(cmd.project, "project"), check_name(cmd.name)
        selector = check_name(cmd.selector, "link selector") if cmd.selector else ""
        if not selector:
            raise InvalidArgument("name the link to remove: its number (v2) or an alias")

        async def attempt(conn: asyncpg.Connection) -> ac.Unlinked:
            state = await load_catalog(conn, project, name)
            if not state.collection.exists:
                raise NotFound(f"artifact {project}/{name} not found")
            decision = domain_registry.decide_unlink(state, selector, project=project, name=name, now=time.time())
            source = await conn.fetchrow(
                "SELECT source_project, source_name, source_version FROM ingest_links"
                " WHERE project = $1 AND name = $2 AND version = $3",
                project,
                name,
                decision.link.number,
            )
            stream = collection_stream(project, name)
            await apply_and_append(conn, [eventlog.Append(stream, decision.events, state.collection.stream_version)])
            return ac.Unlinked(
                link_version=decision.link.number,
                version_id=decision.link.version_id,
                linked_from=f"{source['source_project']}/{source['source_name']}:v{source['source_version']}",
                aliases_removed=decision.aliases_removed,
            )

        return await retrying(self.pool, attempt)


async def list_links(conn: asyncpg.Pool, q: ac.ListLinks) -> ac.LinkPage:
    """Links of project/name, newest first; the page token is the last link number shown."""
    check_name(q.project, "project")
    check_name(q.name)
    if q.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    size = min(q.page_size or 100, 1000)
    try:
        before = int(q.page_token) if q.page_token else None
    except ValueError:
        raise InvalidArgument(f"invalid page_token {q.page_token!r}") from None
    rows = await conn.fetch(
        "SELECT l.version, l.version_id, l.linked_at, coalesce((SELECT array_agg(a.alias ORDER BY a.alias)"
        " FROM ingest_aliases a WHERE a.project = l.project AND a.name = l.name AND a.version_id = l.version_id),"
        " '{}') AS aliases FROM ingest_links l WHERE l.project = $1 AND l.name = $2"
        " AND ($3::int IS NULL OR l.version < $3) ORDER BY l.version DESC LIMIT $4",
        q.project,
        q.name,
        before,
        size + 1,
    )
    if (
        not rows
        and before is None
        and not await conn.fetchval(
            "SELECT 1 FROM ingest_collections WHERE project = $1 AND name = $2", q.project, q.name
        )
    ):
        raise NotFound(f"artifact {q.project}/{q.name} not found")
    more, rows = len(rows) > size, rows[:size]
    views: dict[str, api.VersionView | None] = {}
    for row in rows:
        if row["version_id"] not in views:
            try:
                views[row["version_id"]] = await queries.version_by_id(conn, row["version_id"])
            except NotFound:  # deleted since it was linked
                views[row["version_id"]] = None
    links = [
        ac.LinkView(
            r["version"], r["version_id"], views[r["version_id"]], list(r["aliases"]), r["linked_at"].timestamp()
        )
        for r in rows
    ]
    return ac.LinkPage(links=links, next_page_token=str(rows[-1]["version"]) if more else "")
