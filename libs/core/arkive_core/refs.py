"""Artifact refs: "[project/]name[:selector]" or a bare version id.

The selector is "vN" (a version number), an alias ("latest" when omitted) or a custom version label.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .errors import FailedPrecondition, InvalidArgument
from .limits import shown
from .validation import NAME_RE, VERSION_SELECTOR_RE

VERSION_ID_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class Ref:
    project: str
    name: str
    selector: str = "latest"
    version_id: str = ""

    @property
    def version_number(self) -> int | None:
        """The N of a "vN" selector, else None."""
        m = VERSION_SELECTOR_RE.fullmatch(self.selector)
        return int(self.selector[1:]) if m else None

    def __str__(self) -> str:
        if self.version_id and not self.name:
            return self.version_id
        return f"{self.project}/{self.name}:{self.selector}"


def _without_entity(text: str, parts: list[str], selector: str) -> tuple[str, str]:
    """W&B's "entity/project/name": accepted when the entity is this instance's (ARKIVE_ENTITY),
    otherwise refused with the ref to write instead."""
    entity = os.environ.get("ARKIVE_ENTITY", "").strip()
    if entity and parts[0] == entity:
        return parts[1], parts[2]
    instead = f"{parts[1]}/{parts[2]}" + (f":{selector}" if selector else "")
    why = (
        f"this instance's entity is {shown(entity)}"
        if entity
        else "set ARKIVE_ENTITY to accept refs that start with your entity"
    )
    raise InvalidArgument(
        f"invalid ref {shown(text)}: arkive refs are [project/]name[:version|alias|label] "
        f"(W&B's entity/project/name): write {shown(instead)} ({why})"
    )


def parse_ref(text: str, default_project: str = "") -> Ref:
    """Parses a ref; a ref without project takes default_project (an error if that is empty)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("empty artifact ref")
    text = text.strip()
    if VERSION_ID_RE.fullmatch(text):
        return Ref(project="", name="", selector="", version_id=text)
    body, _, selector = text.partition(":")
    if ":" in selector:
        raise InvalidArgument(f"invalid ref {shown(text)}: more than one ':'")
    parts = body.split("/")
    if len(parts) == 1:
        project, name = default_project, parts[0]
    elif len(parts) == 2:
        project, name = parts
    elif len(parts) == 3:
        project, name = _without_entity(text, parts, selector)
    else:
        raise InvalidArgument(f"invalid ref {shown(text)}: expected [project/]name[:version|alias|label]")
    if not project:
        raise InvalidArgument(f"invalid ref {shown(text)}: no project given")
    for what, value in (("project", project), ("name", name)):
        if not NAME_RE.fullmatch(value):
            raise InvalidArgument(f"invalid ref {shown(text)}: bad {what} {shown(value)}")
    if selector == "":
        selector = "latest"
    elif not NAME_RE.fullmatch(selector):
        raise InvalidArgument(f"invalid ref {shown(text)}: bad version, alias or label {shown(selector)}")
    return Ref(project=project, name=name, selector=selector)


def refuse_link(text: str, project: str, name: str, version: int) -> None:
    """A change of a version must name it in its own collection. A ref through a registry link
    ("registry/zoo:production") resolves to a version of another project, while the caller's roles
    were checked on the registry's: the change is refused (FAILED_PRECONDITION) rather than reach a
    project the caller may not change."""
    ref = parse_ref(text)
    if ref.project and not ref.version_id and (ref.project, ref.name) != (project, name):
        raise FailedPrecondition(
            f"{text} is a registry link to {project}/{name}:v{version}: change that version in its own"
            " collection, or move the registry's aliases with link/unlink"
        )
