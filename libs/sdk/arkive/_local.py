"""What every log does first: the artifact's local files, checked, and hashed with progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

from arkive_common.errors import InvalidArgument
from arkive_common.validation import check_name

from ._files import HashedFile, LocalFile, hash_files
from ._paths import check_layout
from ._progress import NullProgress
from .artifact import Artifact


def local_files(artifact: Artifact) -> list[LocalFile]:
    local = artifact.local_files()
    # "a" and "a/b" cannot both exist on disk: such a version could never be downloaded.
    check_layout((f.path for f in local), f"artifact {artifact.name!r}", InvalidArgument)
    return local


async def hash_local(local: list[LocalFile], progress: NullProgress) -> list[HashedFile]:
    total = await asyncio.to_thread(lambda: sum(file_size(f.source) for f in local))
    progress.phase("hashing", total)
    return await hash_files(local, on_bytes=progress.advance)


def split_name(text: str, default_project: str) -> tuple[str, str]:
    """(project, name) of "[project/]name"."""
    if not isinstance(text, str):
        raise InvalidArgument(f"expected an Artifact or a [project/]name, got {type(text).__name__}")
    if ":" in text:
        raise InvalidArgument(f"expected [project/]name without a version, got {text!r}")
    project, _, name = text.rpartition("/")
    return check_name(project or default_project, "project"), check_name(name, "artifact name")


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # hashing will raise the real error
