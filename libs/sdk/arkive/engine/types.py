"""What the engine hands back: a version's file entries and download summaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple


class FileInfo(NamedTuple):
    """One file of a version: its path inside the artifact, blob digest and size in bytes."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What a download did: the root it wrote under and how much it wrote or found in place."""

    path: Path
    files_written: int
    bytes_written: int
    files_skipped: int
    files_from_cache: int = 0
    """Of files_written, those copied from the local blob cache (verified) instead of transferred."""
    bytes_from_cache: int = 0
    bytes_downloaded: int = 0
    """Bytes received from the server."""
    files_removed: tuple[str, ...] = ()
    """checkout only: paths deleted because the version does not have them."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "files_written": self.files_written,
            "bytes_written": self.bytes_written,
            "files_skipped": self.files_skipped,
            "files_from_cache": self.files_from_cache,
            "bytes_from_cache": self.bytes_from_cache,
            "bytes_downloaded": self.bytes_downloaded,
            "files_removed": list(self.files_removed),
        }
