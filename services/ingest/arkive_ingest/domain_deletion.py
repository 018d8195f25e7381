"""Pure domain of deleting and undeleting versions of a collection (no I/O): the decisions the
deletion handlers append. State comes from domain.evolve, which folds the deletion events too."""

from __future__ import annotations

from dataclasses import dataclass

from arkive_core.errors import FailedPrecondition, NotFound

from arkive_common.events import AliasAssigned, AliasRemoved, Event, VersionsDeleted, VersionsUndeleted

from .domain import LATEST, Collection, VersionInfo, follow_latest


@dataclass(frozen=True, slots=True)
class DeleteDecision:
    events: list[Event]
    deleted: list[VersionInfo]
    skipped: list[tuple[VersionInfo, str]]


def _chunks(items: list[VersionInfo], size: int = 1000) -> list[list[VersionInfo]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _latest_events(state: Collection, live: list[VersionInfo], project: str, name: str) -> list[Event]:
    """`latest` follows the newest live version: moved back on delete, forward on undelete."""
    newest = max(live, key=lambda v: v.version, default=None)
    target = (newest.version_id, newest.version) if newest is not None else None
    return follow_latest(state.aliases.get(LATEST, ""), target, project, name)


def decide_delete(
    state: Collection,
    version_ids: list[str],
    *,
    project: str,
    name: str,
    delete_aliases: bool,
    skip_protected: bool,
    reason: str,
    now: float,
    purge: bool = False,
    linked_aliases: dict[str, list[str]] | None = None,
) -> DeleteDecision:
    """Soft-deletes versions. A version holding an alias other than latest is refused (or skipped
    with skip_protected) unless delete_aliases also removes its aliases; deleting again is a no-op.
    `linked_aliases` (version id -> "registry/zoo:production") are aliases of registry links to a
    version: they protect it the same way (their removal is appended by registry_guard)."""
    by_id = {v.version_id: v for v in state.versions}
    held: dict[str, list[str]] = {}
    for alias, vid in state.aliases.items():
        if alias != LATEST:
            held.setdefault(vid, []).append(alias)
    for vid, refs in (linked_aliases or {}).items():
        held.setdefault(vid, []).extend(refs)
    doomed: list[VersionInfo] = []
    skipped: list[tuple[VersionInfo, str]] = []
    removed: list[Event] = []
    for vid in dict.fromkeys(version_ids):
        v = by_id.get(vid)
        if v is None:
            raise NotFound(f"{project}/{name} has no version with id {vid}")
        if v.deleted_at and (v.purged or not purge):
            skipped.append((v, "already deleted"))
            continue
        aliases = sorted(held.get(vid, []))
        if aliases and not delete_aliases:
            if skip_protected:
                skipped.append((v, f"held by alias {', '.join(aliases)}"))
                continue
            raise FailedPrecondition(
                f"{project}/{name}:v{v.version} holds alias {', '.join(aliases)}; move the alias or delete with"
                " delete_aliases (--delete-aliases)"
            )
        removed += [
            AliasRemoved(project=project, name=name, alias=a, version_id=vid, with_version=True)
            for a in aliases
            if "/" not in a  # a registry link's alias is removed on its own stream
        ]
        doomed.append(v)
    if not doomed:
        return DeleteDecision([], [], skipped)
    events: list[Event] = [
        VersionsDeleted(
            project=project,
            name=name,
            version_ids=[v.version_id for v in chunk],
            versions=[v.version for v in chunk],
            reason=reason,
            deleted_at=now,
            purged=purge,
        )
        for chunk in _chunks(doomed)
    ]
    gone = {v.version_id for v in doomed}
    live = [v for v in state.versions if not v.deleted_at and v.version_id not in gone]
    return DeleteDecision([*removed, *events, *_latest_events(state, live, project, name)], doomed, skipped)


def decide_undelete(
    state: Collection, version_ids: list[str], *, project: str, name: str, now: float, grace: float
) -> DeleteDecision:
    """Restores deleted versions within the grace window (after it their bytes may be collected).
    The aliases the delete removed come back unless one was assigned anywhere since (then it stays
    where it was put, or removed if it was removed again); latest moves to the newest live version."""
    by_id = {v.version_id: v for v in state.versions}
    back: list[VersionInfo] = []
    skipped: list[tuple[VersionInfo, str]] = []
    for vid in dict.fromkeys(version_ids):
        v = by_id.get(vid)
        if v is None:
            raise NotFound(f"{project}/{name} has no version with id {vid}")
        if not v.deleted_at:
            skipped.append((v, "not deleted"))
            continue
        if v.purged:
            raise FailedPrecondition(f"{project}/{name}:v{v.version} was purged; it cannot be undeleted")
        if now - v.deleted_at > grace:
            raise FailedPrecondition(
                f"{project}/{name}:v{v.version} was deleted {now - v.deleted_at:.0f} s ago, longer than the undelete"
                f" grace window of {grace:.0f} s: its bytes may already be collected"
            )
        back.append(v)
    if not back:
        return DeleteDecision([], [], skipped)
    events: list[Event] = [
        VersionsUndeleted(
            project=project,
            name=name,
            version_ids=[v.version_id for v in chunk],
            versions=[v.version for v in chunk],
            undeleted_at=now,
        )
        for chunk in _chunks(back)
    ]
    restored = {v.version_id for v in back}
    live = [v for v in state.versions if not v.deleted_at or v.version_id in restored]
    aliases = _restored_aliases(state, back, project, name)
    return DeleteDecision([*events, *aliases, *_latest_events(state, live, project, name)], back, skipped)


def _restored_aliases(state: Collection, back: list[VersionInfo], project: str, name: str) -> list[Event]:
    """AliasAssigned for each alias a restored version lost with its deletion and nobody assigned
    since (evolve drops a claim when its alias is assigned anywhere, so one alias has at most one
    claim, and no claimed alias points anywhere)."""
    events: list[Event] = []
    for v in back:
        for alias in state.stripped.get(v.version_id, ()):
            events.append(
                AliasAssigned(
                    project=project,
                    name=name,
                    alias=alias,
                    version_id=v.version_id,
                    version=v.version,
                    previous_version_id="",
                )
            )
    return events
