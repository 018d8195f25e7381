"""Pure domain of the catalogue on a collection stream (no I/O): annotations after commit
(metadata, tags, description) and registry links. The collection itself (versions, aliases,
deletions) is folded by domain.evolve; this module folds what it needs beside that."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound
from arkive_core.limits import check_json_value
from arkive_core.validation import MAX_METADATA_BYTES, MAX_TAGS

from arkive_common import metadata_paths
from arkive_common.events import (
    CollectionCreated,
    Event,
    VersionCommitted,
    VersionDescriptionSet,
    VersionLinked,
    VersionMetadataUpdated,
    VersionTagsUpdated,
    VersionUnlinked,
)

from . import domain


@dataclass(frozen=True, slots=True)
class Notes:
    """What a version says about itself beside its content; changeable after commit."""

    metadata: dict[str, Any]
    tags: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Link:
    number: int
    version_id: str


@dataclass(frozen=True, slots=True)
class Catalog:
    collection: domain.Collection = field(default_factory=domain.Collection)
    notes: dict[str, Notes] = field(default_factory=dict)  # version_id -> notes
    links: tuple[Link, ...] = ()  # live links (collection.links counts every link ever, for numbering)


def evolve(state: Catalog, event: Event) -> Catalog:
    state = replace(state, collection=domain.evolve(state.collection, event))
    match event:
        case VersionCommitted():
            notes = Notes(dict(event.metadata), tuple(event.tags), event.description)
            return replace(state, notes={**state.notes, event.version_id: notes})
        case VersionMetadataUpdated(version_id=vid, metadata=md):
            return replace(state, notes={**state.notes, vid: replace(state.notes[vid], metadata=dict(md))})
        case VersionTagsUpdated(version_id=vid, tags=tags):
            return replace(state, notes={**state.notes, vid: replace(state.notes[vid], tags=tuple(tags))})
        case VersionDescriptionSet(version_id=vid, description=text):
            return replace(state, notes={**state.notes, vid: replace(state.notes[vid], description=text)})
        case VersionLinked(version=n, version_id=vid):
            return replace(state, links=(*state.links, Link(n, vid)))
        case VersionUnlinked(version=n):
            return replace(state, links=tuple(link for link in state.links if link.number != n))
    return state


@dataclass(frozen=True, slots=True)
class Annotate:
    version_id: str
    project: str
    name: str
    assign: dict[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    description: str | None = None  # None: unchanged
    now: float = 0.0


class _VersionKey(TypedDict):
    """The fields that name the version in each of decide_annotate's events."""

    version_id: str
    project: str
    name: str
    version: int


def decide_annotate(state: Catalog, cmd: Annotate) -> list[Event]:
    """Events for what actually changes (none when nothing does); never touches files or digest."""
    info = next((v for v in state.collection.versions if v.version_id == cmd.version_id), None)
    if info is None:
        raise NotFound(f"{cmd.project}/{cmd.name} has no version with id {cmd.version_id}")
    ref = f"{cmd.project}/{cmd.name}:v{info.version}"
    if info.deleted_at:
        raise FailedPrecondition(f"{ref} is deleted; undelete it before changing its metadata, tags or description")
    clash = set(cmd.add_tags) & set(cmd.remove_tags)
    if clash:
        raise InvalidArgument(f"tag {sorted(clash)[0]!r} is both added and removed")
    notes = state.notes[cmd.version_id]
    base = _VersionKey(version_id=cmd.version_id, project=cmd.project, name=cmd.name, version=info.version)
    events: list[Event] = []

    check_json_value(cmd.assign)  # the gateway checked it; the domain trusts no caller
    # Keys are paths; an update merges by path, unsets first (metadata_paths has the whole rule).
    metadata = metadata_paths.merge(notes.metadata, cmd.assign, list(cmd.unset))
    if metadata != notes.metadata:
        if len(json.dumps(metadata).encode()) > MAX_METADATA_BYTES:
            raise InvalidArgument(f"metadata of {ref} would be larger than {MAX_METADATA_BYTES} bytes")
        unset = [k for k in cmd.unset if metadata_paths.get(notes.metadata, k, _MISSING) is not _MISSING]
        assigned = metadata_paths.changed_leaves(notes.metadata, cmd.assign)
        events.append(
            VersionMetadataUpdated(**base, assigned=assigned, unset=unset, metadata=metadata, updated_at=cmd.now)
        )

    added = [t for t in dict.fromkeys(cmd.add_tags) if t not in notes.tags]
    removed = [t for t in notes.tags if t in cmd.remove_tags]
    if added or removed:
        tags = [t for t in notes.tags if t not in removed] + added
        if len(tags) > MAX_TAGS:
            raise InvalidArgument(f"{ref} would have {len(tags)} tags, more than {MAX_TAGS}")
        events.append(VersionTagsUpdated(**base, added=added, removed=removed, tags=tags, updated_at=cmd.now))

    if cmd.description is not None and cmd.description != notes.description:
        events.append(VersionDescriptionSet(**base, description=cmd.description, updated_at=cmd.now))
    return events


_MISSING = object()


@dataclass(frozen=True, slots=True)
class Source:
    """The version to link, as resolved from its ref (live, in its own collection)."""

    version_id: str
    project: str
    name: str
    version: int
    type: str
    manifest_digest: str


@dataclass(frozen=True, slots=True)
class LinkDecision:
    events: list[Event]
    number: int
    created: bool


def decide_link(
    state: Catalog, source: Source, *, project: str, name: str, aliases: tuple[str, ...], now: float
) -> LinkDecision:
    """Links `source` into project/name (a collection of links). Linking the same version again
    creates nothing (requested aliases still move); `latest` follows the newest link."""
    target = state.collection
    where = f"{project}/{name}"
    if (source.project, source.name) == (project, name):
        raise InvalidArgument(f"{where}:v{source.version} is already in {where}")
    if target.versions:
        raise FailedPrecondition(f"{where} holds logged versions; link into a collection that holds only links")
    if target.exists and target.type != source.type:
        raise FailedPrecondition(f"{where} holds links of type {target.type!r}, not {source.type!r}")
    if domain.LATEST in aliases:
        raise FailedPrecondition("'latest' moves by itself to the newest link; it cannot be assigned")
    existing = next((link for link in state.links if link.version_id == source.version_id), None)
    if existing is not None:
        info = domain.VersionInfo(source.version_id, existing.number, source.manifest_digest, "")
        return LinkDecision(domain._alias_events(target, info, aliases, project, name), existing.number, False)
    events: list[Event] = []
    if not target.exists:
        events.append(CollectionCreated(project=project, name=name, type=source.type, created_at=now))
    number = target.links  # numbers are never reused, also after an unlink
    events.append(
        VersionLinked(
            project=project,
            name=name,
            version=number,
            version_id=source.version_id,
            source_project=source.project,
            source_name=source.name,
            source_version=source.version,
            type=source.type,
            manifest_digest=source.manifest_digest,
            linked_at=now,
        )
    )
    # Aliases of a link collection name the source version's id: resolving them is an ordinary alias lookup.
    info = domain.VersionInfo(source.version_id, number, source.manifest_digest, "")
    events += domain._alias_events(target, info, (domain.LATEST, *aliases), project, name)
    return LinkDecision(events, number, True)
