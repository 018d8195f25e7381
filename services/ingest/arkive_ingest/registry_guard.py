"""What deleting or undeleting source versions does to the registry collections linking them.

An alias of a link ("registry/zoo:production") protects its source version like an alias of the
version's own collection: a delete is refused (or skipped) unless it removes the aliases too, and
then they are removed on the registry's stream, in the same transaction and at that stream's
expected version (a concurrent link or alias move conflicts and the delete is retried). `latest`
of such a registry follows the newest link whose source is live; undelete gives back the link
aliases its delete removed (unless they were assigned since) and moves `latest` forward again."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import asyncpg

from arkive_common import eventlog
from arkive_common.events import AliasAssigned, AliasRemoved, Event

from . import domain_catalog, domain_registry
from .annotate import load_catalog
from .domain import LATEST
from .handlers import collection_stream


@dataclass(frozen=True, slots=True)
class Registry:
    project: str
    name: str
    state: domain_catalog.Catalog


async def load(conn: asyncpg.Connection, version_ids: list[str], own: tuple[str, str]) -> list[Registry]:
    """The collections of links holding a link to any of `version_ids` (not the versions' own)."""
    rows = await conn.fetch(
        "SELECT DISTINCT project, name FROM ingest_links WHERE version_id = ANY($1::text[]) ORDER BY project, name",
        version_ids,
    )
    return [
        Registry(r["project"], r["name"], await load_catalog(conn, r["project"], r["name"]))
        for r in rows
        if (r["project"], r["name"]) != own
    ]


def linked_aliases(registries: list[Registry]) -> dict[str, list[str]]:
    """Source version id -> the link aliases naming it, as "project/name:alias" (latest excluded)."""
    out: dict[str, list[str]] = {}
    for reg in registries:
        for alias, vid in sorted(reg.state.collection.aliases.items()):
            if alias != LATEST and any(link.version_id == vid for link in reg.state.links):
                out.setdefault(vid, []).append(f"{reg.project}/{reg.name}:{alias}")
    return out


async def _live(conn: asyncpg.Connection, ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT version_id FROM ingest_versions WHERE version_id = ANY($1::text[]) AND deleted_at IS NULL", ids
    )
    return {r["version_id"] for r in rows}


async def appends(
    conn: asyncpg.Connection,
    registries: list[Registry],
    *,
    deleted: AbstractSet[str] = frozenset(),
    restored: AbstractSet[str] = frozenset(),
) -> list[eventlog.Append]:
    """The registry streams' events for versions now `deleted` or `restored` (read-model liveness
    of the other links' sources, corrected by these two sets)."""
    out: list[eventlog.Append] = []
    for reg in registries:
        links = reg.state.links
        live = (await _live(conn, [link.version_id for link in links]) - deleted) | (
            set(restored) & {link.version_id for link in links}
        )
        events: list[Event] = []
        for alias, vid in sorted(reg.state.collection.aliases.items()):
            if alias != LATEST and vid in deleted:
                events.append(
                    AliasRemoved(project=reg.project, name=reg.name, alias=alias, version_id=vid, with_version=True)
                )
        for link in links:
            if link.version_id in restored:
                for alias in reg.state.collection.stripped.get(link.version_id, ()):
                    events.append(
                        AliasAssigned(
                            project=reg.project,
                            name=reg.name,
                            alias=alias,
                            version_id=link.version_id,
                            version=link.number,
                            previous_version_id="",
                        )
                    )
        live_links = [link for link in links if link.version_id in live]
        events += domain_registry.latest_event(reg.state, live_links, reg.project, reg.name)
        if events:
            stream = collection_stream(reg.project, reg.name)
            out.append(eventlog.Append(stream, events, reg.state.collection.stream_version))
    return out
