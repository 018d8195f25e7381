"""Pure domain of a collection and of a draft: evolve(state, event) -> state, decide(state, command) -> events.

No I/O here; the handlers load state from the event log, call decide, and append what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from arkive_core.errors import AlreadyExists, FailedPrecondition

from arkive_common.events import (
    AliasAssigned,
    AliasRemoved,
    CollectionCreated,
    DraftCommitted,
    DraftCreated,
    DraftFilesAdded,
    Event,
    VersionCommitted,
    VersionLinked,
    VersionsDeleted,
    VersionsUndeleted,
)

LATEST = "latest"


def follow_latest(current: str, newest: tuple[str, int] | None, project: str, name: str) -> list[Event]:
    """The events that point `latest` (now at version id `current`, "" for none) at `newest`
    (version id, number; None: nothing left, so `latest` goes)."""
    if newest is None:
        return [AliasRemoved(project=project, name=name, alias=LATEST, version_id=current)] if current else []
    version_id, number = newest
    if version_id == current:
        return []
    return [
        AliasAssigned(
            project=project, name=name, alias=LATEST, version_id=version_id, version=number, previous_version_id=current
        )
    ]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version_id: str
    version: int
    manifest_digest: str
    label: str
    deleted_at: float = 0.0  # 0: live
    purged: bool = False


@dataclass(frozen=True, slots=True)
class Collection:
    """What decisions about a collection need: its versions, aliases and labels."""

    exists: bool = False
    type: str = ""
    versions: tuple[VersionInfo, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version_id
    stream_version: int = 0
    links: int = 0  # versions of other collections linked here (a registry collection; see domain_catalog)
    # version_id -> aliases its deletion removed and nobody has assigned since: undelete restores them.
    stripped: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def by_id(self, version_id: str) -> VersionInfo:
        return next(v for v in self.versions if v.version_id == version_id)

    def by_manifest(self, digest: str) -> VersionInfo | None:
        # A deleted version is not reused by a re-log of its content: that creates a new version.
        return next((v for v in self.versions if v.manifest_digest == digest and not v.deleted_at), None)

    def by_label(self, label: str) -> VersionInfo | None:
        return next((v for v in self.versions if label and v.label == label), None)


def evolve(state: Collection, event: Event) -> Collection:
    state = replace(state, stream_version=state.stream_version + 1)
    match event:
        case CollectionCreated(type=t):
            return replace(state, exists=True, type=t)
        case VersionCommitted():
            info = VersionInfo(event.version_id, event.version, event.manifest_digest, event.label)
            return replace(state, versions=(*state.versions, info))
        case AliasAssigned(alias=alias, version_id=vid):
            # An alias assigned anywhere is no longer a deleted version's to take back.
            stripped = {k: tuple(a for a in v if a != alias) for k, v in state.stripped.items()}
            return replace(state, aliases={**state.aliases, alias: vid}, stripped=stripped)
        case VersionLinked():
            return replace(state, links=state.links + 1)
        case AliasRemoved(alias=alias, version_id=vid, with_version=with_version):
            aliases = {k: v for k, v in state.aliases.items() if k != alias}
            if with_version and alias != LATEST:
                stripped = {**state.stripped, vid: (*state.stripped.get(vid, ()), alias)}
                return replace(state, aliases=aliases, stripped=stripped)
            return replace(state, aliases=aliases)
        case VersionsDeleted(version_ids=ids, deleted_at=at, purged=purged):
            gone = set(ids)
            return replace(
                state,
                versions=tuple(
                    replace(v, deleted_at=v.deleted_at or at, purged=v.purged or purged) if v.version_id in gone else v
                    for v in state.versions
                ),
            )
        case VersionsUndeleted(version_ids=ids):
            back = set(ids)
            return replace(
                state,
                versions=tuple(replace(v, deleted_at=0.0) if v.version_id in back else v for v in state.versions),
                stripped={k: v for k, v in state.stripped.items() if k not in back},
            )
    return state


@dataclass(frozen=True, slots=True)
class CommitVersion:
    """Commit a draft's content as the next version of project/name."""

    project: str
    name: str
    type: str
    version_id: str
    draft_id: str
    manifest_digest: str
    file_count: int
    total_size: int
    metadata: dict[str, Any]
    description: str
    aliases: tuple[str, ...]
    tags: tuple[str, ...]
    label: str
    now: float
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    events: list[Event]
    version_id: str
    created: bool


def _alias_events(
    state: Collection, target: VersionInfo, aliases: tuple[str, ...], project: str, name: str
) -> list[Event]:
    return [
        AliasAssigned(
            project=project,
            name=name,
            alias=alias,
            version_id=target.version_id,
            version=target.version,
            previous_version_id=state.aliases.get(alias, ""),
        )
        for alias in aliases
        if state.aliases.get(alias) != target.version_id
    ]


def decide_commit(state: Collection, cmd: CommitVersion) -> Decision:
    if state.exists and state.type != cmd.type:
        raise FailedPrecondition(
            f"{cmd.project}/{cmd.name} is of type {state.type!r}; cannot log a version of type {cmd.type!r}"
        )
    if state.links:  # link numbers and version numbers would collide
        raise FailedPrecondition(
            f"{cmd.project}/{cmd.name} is a collection of links; log versions elsewhere and link them"
        )
    user_aliases = tuple(a for a in cmd.aliases if a != LATEST)
    existing = state.by_manifest(cmd.manifest_digest)
    if existing is not None:
        # Identical content: no new version. Requested aliases still move (W&B does the same).
        if cmd.label and cmd.label != existing.label:
            raise FailedPrecondition(
                f"{cmd.project}/{cmd.name}:v{existing.version} already has this content"
                f"{' with label ' + repr(existing.label) if existing.label else ' without a label'};"
                f" a version label cannot be added to it"
            )
        moved = _alias_events(state, existing, user_aliases, cmd.project, cmd.name)
        return Decision(moved, existing.version_id, created=False)
    if cmd.label:
        taken = state.by_label(cmd.label)
        if taken is not None:
            raise AlreadyExists(
                f"version label {cmd.label!r} is already used by {cmd.project}/{cmd.name}:v{taken.version}"
            )
    events: list[Event] = []
    if not state.exists:
        events.append(CollectionCreated(project=cmd.project, name=cmd.name, type=cmd.type, created_at=cmd.now))
    number = len(state.versions)
    events.append(
        VersionCommitted(
            version_id=cmd.version_id,
            project=cmd.project,
            name=cmd.name,
            type=cmd.type,
            version=number,
            manifest_digest=cmd.manifest_digest,
            file_count=cmd.file_count,
            total_size=cmd.total_size,
            draft_id=cmd.draft_id,
            metadata=cmd.metadata,
            description=cmd.description,
            tags=list(cmd.tags),
            label=cmd.label,
            created_at=cmd.now,
            run_id=cmd.run_id,
        )
    )
    new = VersionInfo(cmd.version_id, number, cmd.manifest_digest, cmd.label)
    events += _alias_events(state, new, (LATEST, *user_aliases), cmd.project, cmd.name)
    return Decision(events, cmd.version_id, created=True)


def decide_aliases(
    state: Collection, version_id: str, aliases: tuple[str, ...], project: str, name: str
) -> list[Event]:
    if LATEST in aliases:
        raise FailedPrecondition("'latest' moves by itself to the newest version; it cannot be assigned")
    return _alias_events(state, state.by_id(version_id), aliases, project, name)


@dataclass(frozen=True, slots=True)
class Draft:
    exists: bool = False
    project: str = ""
    name: str = ""
    type: str = ""
    committed_version_id: str = ""


def evolve_draft(state: Draft, event: Event) -> Draft:
    match event:
        case DraftCreated(project=p, name=n, type=t):
            return Draft(exists=True, project=p, name=n, type=t)
        case DraftCommitted(version_id=vid):
            return replace(state, committed_version_id=vid)
        case DraftFilesAdded():
            return state
    return state
