"""Pure domain of removing a link from a collection of links (no I/O). Aliases of the collection
on the link go with it; `latest` moves to the newest remaining link (or goes when none is left)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from arkive_core.errors import NotFound

from arkive_common.events import AliasRemoved, Event, VersionUnlinked

from .domain import LATEST, follow_latest
from .domain_catalog import Catalog, Link

_NUMBER = re.compile(r"^v?(\d{1,9})$")


@dataclass(frozen=True, slots=True)
class UnlinkDecision:
    events: list[Event]
    link: Link
    aliases_removed: list[str]


def find_link(state: Catalog, selector: str, where: str) -> Link:
    """The live link a selector names: "v2"/"2" by link number, else an alias of the collection."""
    m = _NUMBER.fullmatch(selector)
    if m:
        number = int(m.group(1))
        found = next((link for link in state.links if link.number == number), None)
        if found is None:
            raise NotFound(f"{where} has no link v{number}")
        return found
    vid = state.collection.aliases.get(selector)
    found = next((link for link in state.links if link.version_id == vid), None) if vid else None
    if found is None:
        raise NotFound(f"{where} has no alias {selector!r}")
    return found


def latest_event(state: Catalog, live: list[Link], project: str, name: str) -> list[Event]:
    """`latest` of a collection of links names the newest of `live`."""
    newest = max(live, key=lambda link: link.number, default=None)
    target = (newest.version_id, newest.number) if newest is not None else None
    return follow_latest(state.collection.aliases.get(LATEST, ""), target, project, name)


def decide_unlink(state: Catalog, selector: str, *, project: str, name: str, now: float) -> UnlinkDecision:
    where = f"{project}/{name}"
    if not state.links and not state.collection.links:
        raise NotFound(f"{where} is not a collection of links")
    link = find_link(state, selector, where)
    held = sorted(a for a, vid in state.collection.aliases.items() if vid == link.version_id and a != LATEST)
    events: list[Event] = [AliasRemoved(project=project, name=name, alias=a, version_id=link.version_id) for a in held]
    events.append(
        VersionUnlinked(project=project, name=name, version=link.number, version_id=link.version_id, unlinked_at=now)
    )
    rest = [x for x in state.links if x.number != link.number]
    events += latest_event(state, rest, project, name)
    return UnlinkDecision(events, link, held)
