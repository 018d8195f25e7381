"""Metadata, tags and description after commit: a command on the version's collection stream,
decided by domain_catalog and appended at the stream's expected version (a concurrent change of
the collection makes the append conflict; the retry decides again on the new state)."""

from __future__ import annotations

import time

import asyncpg
from arkive_core import refs
from arkive_core.errors import InvalidArgument
from arkive_core.validation import MAX_TAGS, check_description, check_list, check_tag

from arkive_common import api_catalog as ac
from arkive_common import eventlog, metadata_paths

from . import domain, domain_catalog, queries, snapshots, tombstones
from .handlers import apply_and_append, collection_stream, retrying

MAX_KEYS_PER_CALL = 256


async def load_catalog(conn: asyncpg.Connection, project: str, name: str) -> domain_catalog.Catalog:
    return await snapshots.load(
        conn,
        collection_stream(project, name),
        kind="catalog",
        state_type=domain_catalog.Catalog,
        initial=domain_catalog.Catalog(),
        evolve=domain_catalog.evolve,
        code=(domain, domain_catalog),
    )


def checked(cmd: ac.UpdateVersion) -> domain_catalog.Annotate:
    """Validated once, before any retry. Keys set and unset are paths ("metrics.f1" is f1 inside
    metrics) and a set merges by path (see arkive_common.metadata_paths)."""
    if len(cmd.assign) + len(cmd.unset) > MAX_KEYS_PER_CALL:
        raise InvalidArgument(f"at most {MAX_KEYS_PER_CALL} metadata keys per call")
    metadata_paths.leaves(cmd.assign)  # a path given twice is refused here, not after a retry
    for key in cmd.unset:
        metadata_paths.split(key)
    return domain_catalog.Annotate(
        version_id="",
        project="",
        name="",
        assign=dict(cmd.assign),
        unset=tuple(dict.fromkeys(cmd.unset)),
        add_tags=tuple(check_list(cmd.add_tags, check_tag, "tags", MAX_TAGS)),
        remove_tags=tuple(check_list(cmd.remove_tags, check_tag, "tags", MAX_TAGS)),
        description=None if cmd.description is None else check_description(cmd.description),
    )


class AnnotateHandlers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def update_version(self, cmd: ac.UpdateVersion) -> ac.Updated:
        base = checked(cmd)

        async def attempt(conn: asyncpg.Connection) -> ac.Updated:
            # resolve_any finds deleted versions too, so the domain can refuse them precisely.
            target = await tombstones.resolve_any(conn, cmd.ref)
            refs.refuse_link(cmd.ref, target.project, target.name, target.version)
            state = await load_catalog(conn, target.project, target.name)
            decision = domain_catalog.decide_annotate(
                state,
                domain_catalog.Annotate(
                    version_id=target.version_id,
                    project=target.project,
                    name=target.name,
                    assign=base.assign,
                    unset=base.unset,
                    add_tags=base.add_tags,
                    remove_tags=base.remove_tags,
                    description=base.description,
                    now=time.time(),
                ),
            )
            if decision:
                stream = collection_stream(target.project, target.name)
                await apply_and_append(conn, [eventlog.Append(stream, decision, state.collection.stream_version)])
            return ac.Updated(version=await queries.version_by_id(conn, target.version_id), changed=bool(decision))

        return await retrying(self.pool, attempt)
