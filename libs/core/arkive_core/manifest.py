"""The canonical manifest digest: one sha256 over a version's sorted (path, digest, size) entries.

Client and server compute it the same way; the server's value is the one recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def manifest_digest(entries: Iterable[tuple[str, str, int]]) -> str:
    """sha256 over "path\\0digest\\0size\\n" lines sorted by path (paths are unique per version)."""
    h = hashlib.sha256()
    for path, digest, size in sorted(entries):
        h.update(f"{path}\0{digest}\0{size}\n".encode())
    return "sha256:" + h.hexdigest()
