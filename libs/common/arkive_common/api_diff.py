"""Bus request and reply of the files diff of two versions (ingest answers from its manifests)."""

from __future__ import annotations

import msgspec

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


class DiffFiles(msgspec.Struct, frozen=True):
    ref_a: str
    ref_b: str
    page_size: int = 1000
    page_token: str = ""  # the last path of the previous page


class FileChange(msgspec.Struct, frozen=True, array_like=True):
    """One path whose entry differs: in b only (added), in a only (removed), or in both with another
    digest, size or reference source (changed). A reference entry's uri is set, a file's is ""."""

    path: str
    change: str
    old_digest: str = ""
    old_size: int = 0
    old_uri: str = ""
    new_digest: str = ""
    new_size: int = 0
    new_uri: str = ""


class FileDiffPage(msgspec.Struct, frozen=True):
    changes: list[FileChange]
    next_page_token: str = ""
