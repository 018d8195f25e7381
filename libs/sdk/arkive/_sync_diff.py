"""The blocking flavour of version diffs, for Client (see _diff.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator

from ._diff import FileChange, VersionDiff
from ._host import SyncHost
from .version import ArtifactVersion


class SyncDiffMixin(SyncHost):
    """Diff methods of Client."""

    def diff(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> VersionDiff:
        """Files added, removed, changed and the metadata difference from a to b (see AsyncClient.diff)."""
        return self._run(self._aclient.diff(a, b))

    def diff_files(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> Iterator[FileChange]:
        """The paths that differ between a and b, sorted by path, fetched lazily page by page."""
        from .client import _anext

        agen = self._aclient.diff_files(a, b)
        try:
            while True:
                try:
                    yield self._run(_anext(agen))
                except StopAsyncIteration:
                    return
        finally:
            if self._finalizer.alive and isinstance(agen, AsyncGenerator):
                self._run(agen.aclose())
