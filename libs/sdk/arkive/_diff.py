"""Differences between two versions (an AsyncClient feature; Client's blocking
methods are generated from it):

    d = await client.diff("demo/mnist:v3", "demo/mnist:v4")
    d.added, d.removed, d.changed            # FileChange lists, sorted by path
    d.metadata.changed                       # {"metrics.accuracy": (0.91, 0.93)}

Files are compared on the server from the two manifests (DiffFiles): only the paths that differ
travel, page by page, so two 100k-file versions are never listed in full. Metadata is compared here
from the two versions, leaf by leaf, by dotted key path (the paths `arkive meta set` and search use).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from arkive_proto.v1 import artifact_service_pb2 as apb

from ._feature import Feature
from .version import ArtifactVersion, FileInfo

DIFF_PAGE_SIZE = 1000
_KINDS = {apb.FILE_CHANGE_KIND_ADDED: "added", apb.FILE_CHANGE_KIND_REMOVED: "removed"}


@dataclass(frozen=True, slots=True)
class FileChange:
    """A path added (only in b), removed (only in a) or changed (other digest, size or source)."""

    path: str
    kind: str  # "added" | "removed" | "changed"
    before: FileInfo | None  # the entry in a
    after: FileInfo | None  # the entry in b

    def to_dict(self) -> dict[str, Any]:
        def side(f: FileInfo | None) -> dict[str, Any] | None:
            return None if f is None else {"digest": f.digest, "size": f.size}

        return {"path": self.path, "change": self.kind, "before": side(self.before), "after": side(self.after)}


@dataclass(frozen=True, slots=True)
class MetadataDiff:
    """Leaf keys by dotted path: only in b (added), only in a (removed), in both with another value."""

    added: dict[str, Any]
    removed: dict[str, Any]
    changed: dict[str, tuple[Any, Any]]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {k: {"old": old, "new": new} for k, (old, new) in self.changed.items()},
        }


@dataclass(frozen=True, slots=True)
class VersionDiff:
    a: ArtifactVersion
    b: ArtifactVersion
    files: tuple[FileChange, ...]
    metadata: MetadataDiff

    def _of(self, kind: str) -> list[FileChange]:
        return [f for f in self.files if f.kind == kind]

    @property
    def added(self) -> list[FileChange]:
        return self._of("added")

    @property
    def removed(self) -> list[FileChange]:
        return self._of("removed")

    @property
    def changed(self) -> list[FileChange]:
        return self._of("changed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.ref,
            "b": self.b.ref,
            "a_version_id": self.a.version_id,
            "b_version_id": self.b.version_id,
            "same_content": self.a.manifest_digest == self.b.manifest_digest,
            "files": {kind: [f.to_dict() for f in self._of(kind)] for kind in ("added", "removed", "changed")},
            "metadata": self.metadata.to_dict(),
        }


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"metrics": {"acc": 1}, "n": 2} -> {"metrics.acc": 1, "n": 2}; an empty object is a leaf."""
    if not isinstance(value, dict) or (prefix and not value):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def metadata_diff(a: dict[str, Any], b: dict[str, Any]) -> MetadataDiff:
    la, lb = _leaves(a), _leaves(b)
    return MetadataDiff(
        added={k: lb[k] for k in sorted(lb.keys() - la.keys())},
        removed={k: la[k] for k in sorted(la.keys() - lb.keys())},
        # 1 == 1.0 == True in Python; JSON tells them apart, so compare types as well.
        changed={
            k: (la[k], lb[k]) for k in sorted(la.keys() & lb.keys()) if la[k] != lb[k] or type(la[k]) is not type(lb[k])
        },
    )


def _info(entry: Any) -> FileInfo:
    return FileInfo(entry.path, entry.digest or entry.reference.uri, int(entry.size))


class Diffs(Feature):
    """Diff methods of AsyncClient."""

    async def diff_files(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> AsyncIterator[FileChange]:
        """The paths that differ between versions a and b, sorted by path, fetched page by page.
        A reference entry's side carries its digest when known, else its uri."""
        ref_a, ref_b = self._ref(a), self._ref(b)
        async for page in self._pages(
            lambda tok: apb.DiffFilesRequest(ref_a=ref_a, ref_b=ref_b, page_size=DIFF_PAGE_SIZE, page_token=tok),
            self._artifacts.DiffFiles,
        ):
            for c in page.changes:
                kind = _KINDS.get(c.kind, "changed")
                before = _info(c.before) if c.HasField("before") else None
                after = _info(c.after) if c.HasField("after") else None
                yield FileChange(c.path, kind, before, after)

    async def diff(self, a: str | ArtifactVersion, b: str | ArtifactVersion) -> VersionDiff:
        """What changed from version a to version b: files added, removed and changed (by digest,
        with sizes) and the metadata keys added, removed and changed (by dotted path, old and new)."""
        va = a if isinstance(a, ArtifactVersion) else await self.get_version(a)
        vb = b if isinstance(b, ArtifactVersion) else await self.get_version(b)
        files = tuple([c async for c in self.diff_files(va, vb)])  # by id: aliases may move meanwhile
        return VersionDiff(va, vb, files, metadata_diff(va.metadata, vb.metadata))
