"""Alias management after logging: set_aliases moves aliases onto a version and removes them
(decided by domain_aliases, appended at the collection stream's expected version, retried on a
conflict like every command of a collection); list_aliases reads the read model."""

from __future__ import annotations

import asyncpg
from arkive_core import refs
from arkive_core.errors import NotFound
from arkive_core.validation import MAX_ALIASES, check_alias, check_list, check_name

from arkive_common import api, eventlog
from arkive_common import api_aliases as aa

from . import domain_aliases, queries
from .handlers import apply_and_append, collection_stream, load_collection, retrying


class AliasHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def set_aliases(self, cmd: aa.SetAliases) -> api.VersionView:
        add = tuple(check_list(cmd.add, check_alias, "aliases", MAX_ALIASES))
        remove = tuple(check_list(cmd.remove, check_alias, "aliases", MAX_ALIASES))

        async def attempt(conn: asyncpg.Connection) -> api.VersionView:
            target = await queries.resolve(conn, cmd.ref)
            refs.refuse_link(cmd.ref, target.project, target.name, target.version)
            state = await load_collection(conn, target.project, target.name)
            events = domain_aliases.decide_set_aliases(
                state, target.version_id, add, remove, project=target.project, name=target.name
            )
            if events:
                stream = collection_stream(target.project, target.name)
                await apply_and_append(conn, [eventlog.Append(stream, events, state.stream_version)])
            return await queries.version_by_id(conn, target.version_id)

        return await retrying(self.pool, attempt)

    async def list_aliases(self, q: aa.ListAliases) -> aa.AliasList:
        check_name(q.project, "project")
        check_name(q.name)
        async with self.pool.acquire() as conn:
            exists = await conn.fetchval(
                "SELECT 1 FROM ingest_collections WHERE project = $1 AND name = $2", q.project, q.name
            )
            if not exists:
                raise NotFound(f"artifact {q.project}/{q.name} not found")
            # Aliases of a collection of links name the linked (source) versions: join by id only.
            rows = await conn.fetch(
                "SELECT a.alias, a.version_id, v.version, v.project, v.name FROM ingest_aliases a"
                " JOIN ingest_versions v ON v.version_id = a.version_id"
                " WHERE a.project = $1 AND a.name = $2 ORDER BY a.alias LIMIT $3",
                q.project,
                q.name,
                aa.MAX_LISTED_ALIASES,
            )
        return aa.AliasList(
            [aa.AliasView(r["alias"], r["version_id"], r["version"], r["project"], r["name"]) for r in rows]
        )
