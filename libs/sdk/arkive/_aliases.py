"""Aliases after logging (an AsyncClient feature; Client's blocking
methods are generated from it):

    await client.set_aliases("demo/resnet:v3", add=["production"], remove=["staging"])
    v = await client.get_version("demo/resnet:v3"); v.aliases.append("production"); await v.save()
    await client.aliases("demo/resnet")   # {"latest": AliasTarget(...), "production": ...}

Each change is an event on the server (AliasAssigned / AliasRemoved); `latest` moves by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arkive_core.errors import InvalidArgument
from arkive_core.refs import parse_ref
from arkive_core.validation import MAX_ALIASES, check_alias, check_list

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._feature import Feature
from .version import ArtifactVersion


@dataclass(frozen=True, slots=True)
class AliasTarget:
    """Where an alias of a collection points: version `version` (id `version_id`) of project/name
    (the collection itself, except in a collection of links)."""

    alias: str
    version_id: str
    version: int
    project: str
    name: str

    @property
    def ref(self) -> str:
        return f"{self.project}/{self.name}:v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "version_id": self.version_id,
            "version": self.version,
            "ref": self.ref,
        }


def _checked(aliases: Sequence[str], what: str) -> list[str]:
    if isinstance(aliases, str):  # set_aliases(ref, add="production") would add 10 one-letter aliases
        aliases = [aliases]
    names = check_list(list(aliases), check_alias, what, MAX_ALIASES)
    if "latest" in names:
        raise InvalidArgument("'latest' moves by itself to the newest version; it cannot be set or removed by hand")
    return names


class Aliases(Feature):
    """Alias methods of AsyncClient."""

    async def set_aliases(
        self, ref: str | ArtifactVersion, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> ArtifactVersion:
        """Moves the aliases `add` onto the version `ref` resolves to (from wherever they pointed)
        and removes the aliases `remove` from it, as one change; returns the version as it is now.
        Removing an alias the version does not hold changes nothing. `latest` is refused
        (InvalidArgument): it follows the newest version by itself."""
        add_ = _checked(add, "aliases to add")
        remove_ = _checked(remove, "aliases to remove")
        if set(add_) & set(remove_):
            raise InvalidArgument(f"alias {sorted(set(add_) & set(remove_))[0]!r} is both added and removed")
        request = apb.SetAliasesRequest(ref=self._ref(ref), add=add_, remove=remove_)
        resp = await self._call(self._artifacts.SetAliases, request)
        return self._version(resp.version)

    async def aliases(self, name: str) -> dict[str, AliasTarget]:
        """Every alias of the collection "[project/]name" and where it points, sorted by alias."""
        if ":" in name:
            raise InvalidArgument(f"expected [project/]name without a version, got {name!r}")
        r = parse_ref(name, self.project)
        request = apb.ListAliasesRequest(project=r.project, name=r.name)
        resp = await self._call(self._artifacts.ListAliases, request)
        return {a.alias: AliasTarget(a.alias, a.version_id, int(a.version), a.project, a.name) for a in resp.aliases}
