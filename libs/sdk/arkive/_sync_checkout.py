"""The blocking flavour of checkout, verify, download_zip and the cache methods, for Client (see _checkout.py)."""

from __future__ import annotations

import os

from ._checkout import VerifyResult
from ._host import SyncHost
from .engine.cache import CacheInfo, CleanupResult
from .version import ArtifactVersion, DownloadResult


class SyncCheckoutMixin(SyncHost):
    """checkout, verify, download_zip, cache_info and cache_cleanup of Client."""

    def checkout(
        self, ref: str | ArtifactVersion, root: str | os.PathLike[str], *, path_prefix: str | None = None
    ) -> DownloadResult:
        """Makes root hold exactly the version's files: downloads, and deletes files it does not have."""
        return self._run(self._aclient.checkout(ref, root, path_prefix=path_prefix))

    def verify(
        self, ref: str | ArtifactVersion, root: str | os.PathLike[str], *, path_prefix: str | None = None
    ) -> VerifyResult:
        """Compares root with the version: extra, missing and changed files (writes nothing)."""
        return self._run(self._aclient.verify(ref, root, path_prefix=path_prefix))

    def download_zip(
        self, ref: str | ArtifactVersion, out: str | os.PathLike[str], *, path_prefix: str | None = None
    ) -> DownloadResult:
        """Writes the version's files into the zip file `out`, each verified on the way."""
        return self._run(self._aclient.download_zip(ref, out, path_prefix=path_prefix))

    def cache_info(self) -> CacheInfo:
        """Location, entries, bytes and limit of the local blob cache."""
        return self._run(self._aclient.cache_info())

    def cache_cleanup(self, size: int | str = 0) -> CleanupResult:
        """Evicts least recently used cached blobs until at most `size` remain (0 empties the cache)."""
        return self._run(self._aclient.cache_cleanup(size))
