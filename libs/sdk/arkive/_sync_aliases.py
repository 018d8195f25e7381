"""The blocking flavour of alias management, for Client (see _aliases.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ._aliases import AliasTarget
from ._host import SyncHost
from .version import ArtifactVersion


class SyncAliasMixin(SyncHost):
    """Alias methods of Client."""

    def set_aliases(
        self, ref: str | ArtifactVersion, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> ArtifactVersion:
        """Moves `add` onto the version `ref` resolves to and removes `remove` from it (see
        AsyncClient.set_aliases); `latest` is refused."""
        return self._run(self._aclient.set_aliases(ref, add=add, remove=remove))

    def aliases(self, name: str) -> dict[str, AliasTarget]:
        """Every alias of the collection "[project/]name" and where it points."""
        return self._run(self._aclient.aliases(name))
