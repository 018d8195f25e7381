"""Artifact: a local, not yet logged version being assembled from files and folders."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arkive_core.errors import InvalidArgument, NotFound
from arkive_core.limits import MAX_METADATA_DEPTH, parse_json_object
from arkive_core.validation import check_description, check_name, check_type

from .engine.files import LocalFile, artifact_path, join_prefix, walk_dir
from .engine.references import ReferenceSpec, check_spec

if TYPE_CHECKING:
    from .version import ArtifactVersion

DEFAULT_TYPE = "dataset"


def metadata_json(metadata: dict[str, Any], field: str = "metadata") -> str:
    """Metadata as compact JSON (what is sent), validated by the gateway's own function."""
    if not isinstance(metadata, dict):
        raise InvalidArgument(f"{field} must be a dict, not {type(metadata).__name__}")
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise InvalidArgument(f"{field} is nested deeper than {MAX_METADATA_DEPTH} levels") from None
    except ValueError as exc:  # NaN or Infinity: allow_nan=False
        raise InvalidArgument(f"{field} holds a number that is not finite: {exc}") from None
    except TypeError as exc:
        raise InvalidArgument(f"{field} is not JSON-serializable: {exc}") from None
    parse_json_object(text, field)  # int64 range, nesting, size, text: what the gateway checks
    return text


class Artifact:
    """Files to log as the next version of `name`.

    Artifact paths are relative POSIX paths inside the version; every path is validated when it is
    added, so nothing invalid ever reaches the server. Adding a second file at an artifact path
    that is already taken replaces the first one ("last add wins", like W&B).

        art = Artifact("mnist", type="dataset", metadata={"rows": 70000})
        art.add_dir("data/")                    # data/train/x.npy -> "train/x.npy"
        art.add_dir("extra/", name="extra/")    # extra/a.txt      -> "extra/a.txt"
        art.add_file("README.md")               #                  -> "README.md"
    """

    def __init__(
        self,
        name: str,
        type: str = DEFAULT_TYPE,
        *,
        metadata: dict[str, Any] | None = None,
        description: str = "",
    ) -> None:
        self.name = check_name(name, "artifact name")
        self.type = check_type(type)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.metadata_json()  # fail now, not after hashing gigabytes
        self.description = check_description(description or "")
        self._files: dict[str, Path] = {}
        self.skipped: list[tuple[str, str]] = []
        """(local path, reason) of what add_dir left out: escaping symlinks, special files."""
        self.base: ArtifactVersion | None = None
        """The version this draft starts from (see ArtifactVersion.new_draft); None for a fresh artifact."""
        self._removals: list[str] = []  # paths / folder prefixes of the base to leave out
        self.references: list[ReferenceSpec] = []
        """What add_reference recorded, resolved when the artifact is logged."""

    @classmethod
    def _draft_of(cls, base: ArtifactVersion) -> Artifact:
        """A draft of the next version of base's artifact, holding all of base's files (ArtifactVersion.new_draft)."""
        # A deep copy: editing nested metadata of the draft must not change the version object.
        art = cls(base.name, base.type, metadata=copy.deepcopy(base.metadata), description=base.description)
        art.base = base
        return art

    def __repr__(self) -> str:
        based = f", base={self.base.ref!r}, removals={len(self._removals)}" if self.base is not None else ""
        return f"Artifact({self.name!r}, type={self.type!r}, files={len(self._files)}{based})"

    def metadata_json(self) -> str:
        """The metadata as compact JSON (what is sent), validated like the server does."""
        return metadata_json(self.metadata)

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None) -> str:
        """Adds one file at artifact path `name` (default: its base name); returns that path.

        A symlink is stored with the content of the file it points to.
        """
        src = Path(local_path)
        if not src.exists():
            raise NotFound(f"no such file: {src}")
        if not src.is_file():
            raise InvalidArgument(f"not a regular file: {src} (use add_dir for folders)")
        path = artifact_path(name) if name is not None else artifact_path(src.name)
        self._files[path] = src
        return path

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None) -> int:
        """Adds every regular file under a folder, recursively; returns how many were added.

        `name` is a prefix inside the artifact ("images/" puts a/b.png at "images/a/b.png").
        Symlinked directories are not entered; a symlinked file is stored with its content only if
        it resolves inside the folder; what is left out is listed in `self.skipped`.
        """
        src = Path(local_path)
        if not src.exists():
            raise NotFound(f"no such directory: {src}")
        if not src.is_dir():
            raise InvalidArgument(f"not a directory: {src} (use add_file for single files)")
        if name:
            join_prefix(name, "x")  # validate the prefix itself before walking a big tree
        files, skipped = walk_dir(src, name)
        for f in files:
            self._files[f.path] = f.source
        self.skipped.extend(skipped)
        return len(files)

    def add(self, local_path: str | os.PathLike[str], name: str | None = None) -> int:
        """add_dir for a folder, add_file for a file (what the CLI does)."""
        if Path(local_path).is_dir():
            return self.add_dir(local_path, name)
        self.add_file(local_path, name)
        return 1

    def add_reference(
        self, uri: str, name: str | None = None, checksum: bool = True, max_objects: int | None = None
    ) -> None:
        """Adds data that stays where it is: no bytes are copied into arkive.

        - "s3://bucket/key": one object; "s3://bucket/prefix/": one entry per object under it
          (at most max_objects, default 10,000), at name/<key below prefix>. The server records
          each object's ETag and version id (S3 endpoint and credentials are the operator's).
        - "http(s)://...": the server records ETag and Content-Length. Loopback, link-local and
          private addresses are refused unless the operator allow-lists them (ARKIVE_REFERENCE_ALLOW).
        - "file:///abs/path": this machine hashes the file (sha256) when the artifact is logged;
          only this machine (or one that sees the same path, a shared folder) can download it
          again. A folder becomes one entry per file (at most max_objects, default 10,000), at
          name/<path below the folder> (no prefix without a name); symlinks are skipped as add_dir does.
        - "arkive://project/name:v3/path" (or :alias): a file, or every file of a folder (no path:
          the whole version), of another version, W&B's bundle pattern. The server pins it to the
          version the ref names now and records each file's sha256; downloads read the bytes by
          digest and verify them; a run that logs it records that it used that version. Needs read
          on the source's project.

        checksum=False records the URI alone: downloads fetch whatever is there, unverified.
        Otherwise a download fetches from the source and fails with "source changed" if it no
        longer matches. Default name: the last URI component (no prefix for s3 prefixes).
        """
        specs, skipped = check_spec(uri, name, checksum, max_objects)
        self.references.extend(specs)
        self.skipped.extend(skipped)

    def remove(self, name: str) -> None:
        """Removes the file at artifact path `name`, or, in a draft of a base version, a path or folder.

        A file added earlier at `name` (or files added below the folder `name`) are dropped; that
        is all when any was. Otherwise, in a draft made by ArtifactVersion.new_draft(), the base's
        file `name` or everything below the folder `name` ("old/part" or "old/part/": never
        "old/partition.txt") is left out of the new version; the server refuses the log with
        NotFound if the base has nothing there. Files added later at such paths are kept.
        """
        path = artifact_path(name.rstrip("/") if isinstance(name, str) else name)
        below = [p for p in self._files if p == path or p.startswith(path + "/")]
        if below:
            for p in below:
                del self._files[p]
        elif self.base is not None:
            if path not in self._removals:
                self._removals.append(path)
        else:
            raise NotFound(f"no file {path!r} in {self!r}")

    @property
    def removals(self) -> list[str]:
        """Paths and folders of the base version that the new version leaves out, sorted."""
        return sorted(self._removals)

    @property
    def paths(self) -> list[str]:
        """Artifact paths added so far, sorted."""
        return sorted(self._files)

    def local_files(self) -> list[LocalFile]:
        """What will be logged, sorted by artifact path."""
        return [LocalFile(p, self._files[p]) for p in sorted(self._files)]

    def __len__(self) -> int:
        return len(self._files)
