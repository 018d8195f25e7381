"""Pure domain of moving and removing aliases after logging (no I/O): W&B's
`artifact.aliases.append("production"); artifact.save()`. `latest` is not the user's to move: it
follows the newest live version by itself (domain.decide_commit, domain_deletion)."""

from __future__ import annotations

from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound

from arkive_common.events import AliasRemoved, Event

from . import domain


def decide_set_aliases(
    state: domain.Collection,
    version_id: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    *,
    project: str,
    name: str,
) -> list[Event]:
    """AliasAssigned for each alias of `add` not yet on the version (moved from wherever it was),
    AliasRemoved for each alias of `remove` that is on it. Removing an alias the version does not
    hold changes nothing (a repeated request gets the same answer)."""
    if domain.LATEST in add or domain.LATEST in remove:
        raise InvalidArgument("'latest' moves by itself to the newest version; it cannot be set or removed by hand")
    both = set(add) & set(remove)
    if both:
        raise InvalidArgument(f"alias {sorted(both)[0]!r} is both added and removed")
    info = next((v for v in state.versions if v.version_id == version_id), None)
    if info is None:
        raise NotFound(f"{project}/{name} has no version with id {version_id}")
    if info.deleted_at:
        raise FailedPrecondition(f"{project}/{name}:v{info.version} is deleted; undelete it before moving aliases")
    events: list[Event] = [
        AliasRemoved(project=project, name=name, alias=alias, version_id=version_id)
        for alias in dict.fromkeys(remove)
        if state.aliases.get(alias) == version_id
    ]
    events += domain._alias_events(state, info, tuple(dict.fromkeys(add)), project, name)
    return events
