"""Where a downloaded file may be written: never outside the chosen root.

Paths come from the server, and the SDK trusts it no more than the server trusts the SDK: each one
is validated again, joined under the real (symlink-resolved) root and checked to still be inside it
after resolving every symlink that already exists on the way, including the file itself. This does
not defend against another local process swapping directories for symlinks while we write (that
would need openat/O_NOFOLLOW walking); it does stop a hostile or buggy server and a planted
symlink in the destination from redirecting writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from arkive_core.errors import ArkiveError, FailedPrecondition, InvalidArgument

from .files import artifact_path


def safe_destination(root: Path, path: str) -> Path:
    """Returns the absolute destination of artifact `path` under `root`, or raises.

    `root` should be the resolved root (see Path.resolve); InvalidArgument for an invalid path,
    FailedPrecondition when an existing symlink would send the write outside the root.
    """
    try:
        norm = artifact_path(path)
    except InvalidArgument as exc:
        raise InvalidArgument(f"refusing to write a file from the server: {exc.message}") from None
    real_root = Path(os.path.realpath(root))
    dest = real_root.joinpath(*norm.split("/"))
    # realpath resolves symlinks in every existing component (and a dangling final one), so a
    # link anywhere on the way that leads outside shows up as a path outside the root.
    resolved = Path(os.path.realpath(dest))
    if not resolved.is_relative_to(real_root) or resolved == real_root:
        raise FailedPrecondition(f"refusing to write {norm!r}: a symlink in {root} points outside it")
    return dest


def check_layout(
    paths: Iterable[str], source: str = "the server", error: type[ArkiveError] = FailedPrecondition
) -> None:
    """Refuses a set of paths where one is both a file and a folder, or appears twice.

    Such a version could not be written to disk (or one file would overwrite another): downloads
    reject it before the first byte, and log_artifact before anything is uploaded.
    """
    files: set[str] = set()
    dirs: set[str] = set()
    for p in paths:
        if p in files:
            raise error(f"{source} listed {p!r} twice")
        if p in dirs:
            raise error(f"{source} has {p!r} as a file and as a folder")
        files.add(p)
        parts = p.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in files:
                raise error(f"{source} has {parent!r} as a file and as a folder")
            dirs.add(parent)


def placement(src: Path, prefix: str | None) -> str | None:
    """Where `arkive log/upsert --as PREFIX` puts a local path: a folder's files under PREFIX/, a
    file at PREFIX/<its name>; None (the default place) without a prefix."""
    folder = prefix.strip("/") if prefix else ""
    if not folder:
        return None
    return f"{folder}/" if src.is_dir() else f"{folder}/{src.name}"
