"""Result objects: committed versions, collections, files, download summaries, drafts and upserts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine.types import DownloadResult, FileInfo

if TYPE_CHECKING:
    from .artifact import Artifact

__all__ = ["DownloadResult", "FileInfo"]  # defined in the engine, public here too


class Aliases(list[str]):
    """A version's aliases: a list to edit (append, remove) before version.save(). Compares equal
    to a tuple of the same aliases too (it used to be a tuple)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return tuple(self) == other
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None


@dataclass(frozen=True, slots=True)
class ArtifactVersion:
    """A committed, immutable artifact version.

    `created`, `files_uploaded` and `bytes_uploaded` are only meaningful on the result of
    log_artifact and finish_artifact: whether a new version was made, and what had to be sent.
    The version remembers the client that fetched it so that download() and files() work;
    an AsyncClient returns AsyncArtifactVersion, whose download() and files() are async.
    """

    project: str
    name: str
    version: int
    version_id: str
    type: str
    manifest_digest: str
    file_count: int
    total_size: int
    metadata: dict[str, Any]
    description: str
    aliases: list[str]
    tags: tuple[str, ...]
    label: str
    created_at: datetime
    # A link as listed in a registry collection (project/name/version are the registry's): the
    # source ref, "demo/clf:v3"; "" for a version in its own collection.
    linked_from: str = ""
    created: bool = False
    files_uploaded: int = 0
    bytes_uploaded: int = 0
    _client: Any = field(default=None, repr=False, compare=False)
    _saved_aliases: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # What the server said: save() sends the difference between it and the edited list.
        object.__setattr__(self, "aliases", Aliases(self.aliases))
        object.__setattr__(self, "_saved_aliases", tuple(self.aliases))

    def _alias_changes(self) -> tuple[list[str], list[str]]:
        saved = set(self._saved_aliases)
        add = [a for a in dict.fromkeys(self.aliases) if a not in saved]
        remove = [a for a in self._saved_aliases if a not in self.aliases]
        return add, remove

    def _saved(self, fresh: ArtifactVersion) -> None:
        self.aliases[:] = fresh.aliases
        object.__setattr__(self, "_saved_aliases", tuple(fresh.aliases))

    def save(self) -> ArtifactVersion:
        """Sends the edits of `aliases` (W&B's `version.aliases.append("production"); version.save()`):
        added aliases move onto this version, removed ones are removed (client.set_aliases). `latest`
        moves by itself: adding or removing it is refused (InvalidArgument). Returns this version,
        its aliases as the server has them now (they may have moved elsewhere meanwhile)."""
        add, remove = self._alias_changes()
        if add or remove:
            self._saved(self._owner().set_aliases(self, add=add, remove=remove))
        return self

    @property
    def ref(self) -> str:
        """The stable "project/name:vN" ref of this version."""
        return f"{self.project}/{self.name}:v{self.version}"

    @property
    def version_name(self) -> str:
        return f"v{self.version}"

    def _owner(self) -> Any:
        if self._client is None:
            raise RuntimeError("this ArtifactVersion is not bound to a client; fetch it with Client.get_version")
        return self._client

    def default_root(self) -> Path:
        return Path("artifacts") / f"{self.name}:v{self.version}"

    def download(self, root: str | Path | None = None, *, path_prefix: str | None = None) -> Path:
        """Downloads the files (or those in folder path_prefix) into root; returns root.

        Default root: ./artifacts/<name>:v<N>. Files already present with the same content are
        kept; everything else is verified (size, sha256) and renamed into place atomically.
        """
        return self._owner().download(self, root, path_prefix=path_prefix).path

    async def adownload(self, root: str | Path | None = None, *, path_prefix: str | None = None) -> Path:
        """download() for asyncio code holding a version from the blocking Client."""
        client = self._owner()
        return (await client._submit_async(client._aclient.download(self, root, path_prefix=path_prefix))).path

    def files(self) -> Iterator[FileInfo]:
        """Iterates (path, digest, size) of every file, sorted by path, fetched page by page."""
        return self._owner().files(self)

    def load(self, root: str | Path | None = None) -> Any:
        """The Python object this version holds (a DataFrame, an array, a model, a dict, text), or
        the folder it was downloaded to when no materializer reads it; see Client.load."""
        return self._owner().load(self, root)

    def new_draft(self) -> Artifact:
        """An Artifact for the next version of this artifact that starts with all of this version's files.

        Name, type, metadata (a copy, editable) and description come from this version. Then
        add_file/add_dir (a file at an existing path replaces it), remove(path or folder), and
        log_artifact(draft): only the changes travel; nothing of this version is downloaded,
        hashed or uploaded again, and unchanged files keep their entries.

            draft = client.use_artifact("demo/mnist:latest").new_draft()
            draft.add_file("fixed.csv", "data/labels.csv")   # replace
            draft.remove("old/part")                          # a folder (or one file)
            v = client.log_artifact(draft)
        """
        from .artifact import Artifact

        return Artifact._draft_of(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI prints (also handy for logging)."""
        return {
            "project": self.project,
            "name": self.name,
            "version": self.version,
            "version_name": self.version_name,
            "ref": self.ref,
            "version_id": self.version_id,
            "type": self.type,
            "manifest_digest": self.manifest_digest,
            "file_count": self.file_count,
            "total_size": self.total_size,
            "metadata": self.metadata,
            "description": self.description,
            "aliases": list(self.aliases),
            "tags": list(self.tags),
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            **({"linked_from": self.linked_from} if self.linked_from else {}),
        }


@dataclass(frozen=True, slots=True)
class AsyncArtifactVersion(ArtifactVersion):
    """A version fetched by an AsyncClient: download() is a coroutine, files() an async iterator.

    version = await client.use_artifact("demo/mnist:best")
    path = await version.download("restored/")
    async for f in version.files(): ...
    """

    async def download(  # type: ignore[override]  # the asyncio flavour of the same method
        self, root: str | Path | None = None, *, path_prefix: str | None = None
    ) -> Path:
        return (await self._owner().download(self, root, path_prefix=path_prefix)).path

    async def adownload(self, root: str | Path | None = None, *, path_prefix: str | None = None) -> Path:
        return await self.download(root, path_prefix=path_prefix)

    async def save(self) -> AsyncArtifactVersion:  # type: ignore[override]  # the asyncio flavour
        add, remove = self._alias_changes()
        if add or remove:
            self._saved(await self._owner().set_aliases(self, add=add, remove=remove))
        return self

    def files(self) -> AsyncIterator[FileInfo]:  # type: ignore[override]  # the asyncio flavour
        return self._owner().files(self)

    async def load(self, root: str | Path | None = None) -> Any:
        return await self._owner().load(self, root)


@dataclass(frozen=True, slots=True)
class ArtifactCollection:
    """All versions of one artifact name in one project, with its newest version."""

    project: str
    name: str
    type: str
    version_count: int
    latest: ArtifactVersion | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "name": self.name,
            "type": self.type,
            "version_count": self.version_count,
            "latest": self.latest.to_dict() if self.latest else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What upsert_artifact did to the open distributed draft of project/name.

    `file_count` is the number of files in the draft after this upsert (every worker's, so far);
    `files_upserted` the entries this call sent; `files_uploaded`/`bytes_uploaded` the blobs the
    server lacked and this call uploaded.
    """

    project: str
    name: str
    type: str
    distributed_id: str
    draft_id: str
    file_count: int
    files_upserted: int
    files_uploaded: int
    bytes_uploaded: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "name": self.name,
            "type": self.type,
            "distributed_id": self.distributed_id,
            "draft_id": self.draft_id,
            "file_count": self.file_count,
            "files_upserted": self.files_upserted,
            "files_uploaded": self.files_uploaded,
            "bytes_uploaded": self.bytes_uploaded,
        }


@dataclass(frozen=True, slots=True)
class Draft:
    """An open (not yet committed or aborted) draft; `distributed_id` is empty for a plain draft."""

    draft_id: str
    project: str
    name: str
    type: str
    distributed_id: str
    file_count: int
    created_at: datetime
    updated_at: datetime
    """Time of the last change (creation or added files)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "draft_id": self.draft_id,
            "project": self.project,
            "name": self.name,
            "type": self.type,
            "distributed_id": self.distributed_id,
            "file_count": self.file_count,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
