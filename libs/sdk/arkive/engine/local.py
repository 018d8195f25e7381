"""What every log does first: the artifact's local files, checked, and hashed with progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol

from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_name

from .early import EarlyPacks
from .files import HashedFile, LocalFile, hash_files, start_deferred
from .paths import check_layout
from .progress import NullProgress


class HasLocalFiles(Protocol):
    """What local_files needs of an arkive.Artifact."""

    name: str

    def local_files(self) -> list[LocalFile]: ...


def local_files(artifact: HasLocalFiles) -> list[LocalFile]:
    local = artifact.local_files()
    # "a" and "a/b" cannot both exist on disk: such a version could never be downloaded.
    check_layout((f.path for f in local), f"artifact {artifact.name!r}", InvalidArgument)
    return local


# Small files' bytes kept from hashing until the upload (per log): a first log then reads each
# file once. Beyond this budget, the upload reads (and checks) the rest again.
KEEP_SMALL_BYTES = 128 * 1024 * 1024


async def hash_local(
    local: list[LocalFile],
    progress: NullProgress,
    early: EarlyPacks | None = None,
    deferred: list[threading.Thread] | None = None,
) -> list[HashedFile]:
    """hash_files for a log: newly hashed small files go to `early` as they are hashed (its last
    partial pack leaves once hashing is over); see hash_files for deferred."""
    hashed = await hash_files(
        local,
        on_bytes=progress.advance,
        on_total=lambda total: progress.phase("hashing", total),
        keep_bytes=KEEP_SMALL_BYTES,
        on_hashed=early.offer if early is not None else None,
        deferred=deferred,
    )
    if early is not None:
        early.finish()
    return hashed


@contextlib.contextmanager
def recording_after() -> Iterator[list[threading.Thread]]:
    """A list for hash_local(deferred=...): the stat cache writes in it start when the block ends
    (the log is done, or failed: the digests of unchanged files are right either way)."""
    writers: list[threading.Thread] = []
    try:
        yield writers
    finally:
        start_deferred(writers)


def split_name(text: str, default_project: str) -> tuple[str, str]:
    """(project, name) of "[project/]name"."""
    if not isinstance(text, str):
        raise InvalidArgument(f"expected an Artifact or a [project/]name, got {type(text).__name__}")
    if ":" in text:
        raise InvalidArgument(f"expected [project/]name without a version, got {text!r}")
    project, _, name = text.rpartition("/")
    return check_name(project or default_project, "project"), check_name(name, "artifact name")
