"""checkout, verify and zip export of a version, and the cache methods, for AsyncClient.

checkout = download + delete what the version does not have; verify = compare a folder with a
version without writing anything. Both look only under root (or root/path_prefix), walk it
without following symlinks, and delete symlinks themselves rather than what they point to, so
nothing outside root is ever read, written or deleted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arkive_core.errors import ArkiveError, FailedPrecondition, InvalidArgument

from ._feature import Feature
from .engine import operations
from .engine.cache import CacheInfo, CleanupResult, cache_cleanup, cache_info
from .engine.files import LocalFile, artifact_path, hash_files
from .engine.paths import check_layout
from .engine.progress import make_progress
from .version import ArtifactVersion, DownloadResult, FileInfo


def folder_prefix(path_prefix: str | None) -> str:
    """The canonical folder prefix ("" for none); InvalidArgument for "../x", "/etc" and the like."""
    if not path_prefix:
        return ""
    try:
        return artifact_path(path_prefix.rstrip("/"))
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid path_prefix: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """How a folder differs from a version: files only on disk, only in the version, or different."""

    path: Path
    extra: tuple[str, ...]
    missing: tuple[str, ...]
    changed: tuple[str, ...]
    files_checked: int

    @property
    def clean(self) -> bool:
        return not (self.extra or self.missing or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "clean": self.clean,
            "extra": list(self.extra),
            "missing": list(self.missing),
            "changed": list(self.changed),
            "files_checked": self.files_checked,
        }


def _scan(real_root: Path, prefix: str) -> dict[str, bool]:
    """rel path -> is a regular file, for everything that is not a directory under root/prefix.

    Symlinks (to files or folders) and special files are listed as non-regular and never entered.
    """
    base = real_root.joinpath(*prefix.split("/")) if prefix else real_root
    if prefix and os.path.realpath(base) != str(base) and os.path.lexists(base):
        # A symlink somewhere on the way (possibly to outside root): report it, never walk it.
        if os.path.islink(base):
            return {prefix: False}
        raise FailedPrecondition(f"refusing to look at {prefix!r}: a symlink in {real_root} is on the way")
    try:
        st = os.lstat(base)
    except FileNotFoundError:
        return {}
    if not stat.S_ISDIR(st.st_mode):
        return {prefix: stat.S_ISREG(st.st_mode)}
    out: dict[str, bool] = {}

    def on_error(exc: OSError) -> None:
        raise exc  # an unreadable folder would hide extra files

    for dirpath, dirnames, filenames in os.walk(base, onerror=on_error, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if os.path.islink(here / d):
                dirnames.remove(d)
                out[(here / d).relative_to(real_root).as_posix()] = False
        for name in filenames:
            p = here / name
            out[p.relative_to(real_root).as_posix()] = stat.S_ISREG(os.lstat(p).st_mode)
    return out


def _scan_root(root: Path, prefix: str) -> tuple[Path, dict[str, bool]]:
    """(real root, _scan of it); a root that does not exist holds nothing."""
    real_root = Path(os.path.realpath(root))
    if not real_root.exists():
        return real_root, {}
    if not real_root.is_dir():
        raise FailedPrecondition(f"{root} is not a folder")
    return real_root, _scan(real_root, prefix)


def _remove_extras(real_root: Path, extras: list[str]) -> None:
    """Unlinks extras (symlinks themselves, not their targets) and the folders they leave empty."""
    parents: set[Path] = set()
    for rel in extras:
        p = real_root.joinpath(*rel.split("/"))
        os.unlink(p)
        parents.update(q for q in p.parents if q.is_relative_to(real_root) and q != real_root)
    for d in sorted(parents, key=lambda q: len(q.parts), reverse=True):  # deepest first
        try:
            os.rmdir(d)  # only succeeds when empty
        except OSError:
            pass


def _clear_folders_in_the_way(real_root: Path, wanted: set[str]) -> None:
    """Removes folder trees holding no files (those were extras, already removed) where the version
    has a file; a folder that still holds something stays, and the download reports it."""
    for rel in sorted(wanted):
        p = real_root.joinpath(*rel.split("/"))
        if os.path.islink(p) or not p.is_dir() or not Path(os.path.realpath(p)).is_relative_to(real_root):
            continue
        for dirpath, _, filenames in os.walk(p, topdown=False, followlinks=False):
            if not filenames:
                try:
                    os.rmdir(dirpath)  # only succeeds when empty
                except OSError:
                    pass


class Checkout(Feature):
    """checkout, verify, download_zip, cache_info and cache_cleanup of AsyncClient."""

    async def _listing(self, ref: Any, path_prefix: str | None) -> tuple[ArtifactVersion, list[FileInfo], str]:
        version = ref if isinstance(ref, ArtifactVersion) else await self.get_version(ref)
        prefix = folder_prefix(path_prefix)
        files = [f async for f in self.files(version, path_prefix=prefix)]
        return version, files, prefix

    async def checkout(
        self, ref: Any, root: str | os.PathLike[str], *, path_prefix: str | None = None
    ) -> DownloadResult:
        """Makes root (or its folder path_prefix) hold exactly the version's files.

        Downloads like download() and deletes files under root that the version does not have
        (and the folders that leaves empty). Nothing outside root is touched; symlinks found under
        root are removed as links, never followed. files_removed lists what was deleted.
        """
        _, files, prefix = await self._listing(ref, path_prefix)
        dest = Path(root)
        # Every server path is validated before anything is deleted; symlinks on the way are
        # checked by the download, after the removal of extras (which removes links themselves).
        norm = [FileInfo(_server_path(f.path), f.digest, f.size) for f in files]
        check_layout(f.path for f in norm)
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        real_root, local = await asyncio.to_thread(_scan_root, dest, prefix)
        wanted = {f.path for f in norm}
        extras = sorted(p for p, regular in local.items() if p not in wanted or not regular)
        await asyncio.to_thread(_remove_extras, real_root, extras)
        await asyncio.to_thread(_clear_folders_in_the_way, real_root, wanted)
        with make_progress(self.progress) as progress:
            result = await operations.download(self._conn, dest, norm, progress)
        removed = tuple(p for p in extras if p not in wanted)  # replaced symlinks are not "removed"
        return dataclasses.replace(result, files_removed=removed)

    async def verify(self, ref: Any, root: str | os.PathLike[str], *, path_prefix: str | None = None) -> VerifyResult:
        """Compares root (or its folder path_prefix) with the version; writes nothing.

        extra: files on disk the version does not have; missing: the reverse; changed: size or
        sha256 differs, or not a regular file (a symlink). Digests come from the stat cache when
        a file is unchanged since it was last hashed.
        """
        _, files, prefix = await self._listing(ref, path_prefix)
        expected = {_server_path(f.path): f for f in files}
        real_root, local = await asyncio.to_thread(_scan_root, Path(root), prefix)
        extra = sorted(p for p in local if p not in expected)
        missing = sorted(p for p in expected if p not in local)
        changed = [p for p in expected if p in local and (not local[p] or _size(real_root, p) != expected[p].size)]
        same_size = [p for p in expected if p in local and p not in changed]
        hashed = await hash_files([LocalFile(p, real_root.joinpath(*p.split("/"))) for p in same_size])
        changed += [h.path for h in hashed if h.digest != expected[h.path].digest]
        return VerifyResult(real_root, tuple(extra), tuple(missing), tuple(sorted(changed)), len(expected))

    async def download_zip(
        self, ref: Any, out: str | os.PathLike[str], *, path_prefix: str | None = None
    ) -> DownloadResult:
        """Writes the version's files (in folder path_prefix) into the zip file `out`.

        Entries are named by their paths in the version and stored uncompressed; every file is
        verified (size, sha256) as it is streamed in, memory stays bounded, and `out` appears
        only once complete (no partial zip is left behind on error).
        """
        version, files, _ = await self._listing(ref, path_prefix)
        with make_progress(self.progress) as progress:
            return await operations.download_zip(self._conn, Path(out), files, progress, version.created_at)

    async def cache_info(self) -> CacheInfo:
        """Location, entries, bytes and limit of the local blob cache."""
        return await asyncio.to_thread(cache_info)

    async def cache_cleanup(self, size: int | str = 0) -> CleanupResult:
        """Evicts least recently used cached blobs until at most `size` remain (0 empties the cache)."""
        return await asyncio.to_thread(cache_cleanup, size)


def _server_path(path: str) -> str:
    try:
        return artifact_path(path)
    except ArkiveError as exc:
        raise type(exc)(f"refusing a path from the server: {exc.message}", exc.code) from None


def _size(real_root: Path, rel: str) -> int:
    try:
        return os.lstat(real_root.joinpath(*rel.split("/"))).st_size
    except OSError:
        return -1
