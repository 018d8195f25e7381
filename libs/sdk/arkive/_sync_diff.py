"""The blocking flavour of version diffs, for Client (see _diff.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator

from ._diff import FileChange, VersionDiff
from .version import ArtifactVersion


class SyncDiffMixin:
    """Diff methods of Client."""

    def diff(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> VersionDiff:
        """Files added, removed, changed and the metadata difference from a to b (see AsyncClient.diff)."""
        return self._run(self._aclient.diff(a, b))  # type: ignore[attr-defined]

    def diff_files(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> Iterator[FileChange]:
        """The paths that differ between a and b, sorted by path, fetched lazily page by page."""
        from .client import _anext

        agen = self._aclient.diff_files(a, b)  # type: ignore[attr-defined]
        try:
            while True:
                try:
                    yield self._run(_anext(agen))  # type: ignore[attr-defined]
                except StopAsyncIteration:
                    return
        finally:
            if self._finalizer.alive and isinstance(agen, AsyncGenerator):  # type: ignore[attr-defined]
                self._run(agen.aclose())  # type: ignore[attr-defined]
