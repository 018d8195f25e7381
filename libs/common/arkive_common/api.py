"""Requests and replies between the gateway and the services (msgspec on the bus; protobuf stops at
the gateway). Which method takes and answers which is declared in arkive_common.contracts."""

from __future__ import annotations

from typing import Any

import msgspec


class Empty(msgspec.Struct, frozen=True):
    pass


class Pong(msgspec.Struct, frozen=True):
    service: str


class RebuildResult(msgspec.Struct, frozen=True):
    service: str
    events_replayed: int


# --- hashing ------------------------------------------------------------------------------------


class StatBlobs(msgspec.Struct, frozen=True):
    digests: list[str]


class BlobInfo(msgspec.Struct, frozen=True):
    digest: str
    size: int
    key: str
    offset: int = -1  # start in a pack object; -1: the blob is the whole object


class RegisterPack(msgspec.Struct, frozen=True):
    key: str
    blobs: list[tuple[str, int, int]]  # digest, size, offset
    received: int = 0  # bytes the gateway received for it (the byte counters; 0 from older gateways)


class PackRegistered(msgspec.Struct, frozen=True):
    stored: int
    already_present: int
    stored_bytes: int = 0


class BlobInfos(msgspec.Struct, frozen=True):
    blobs: list[BlobInfo]


class RegisterBlob(msgspec.Struct, frozen=True):
    digest: str
    size: int
    key: str
    received: int = 0  # bytes the gateway received for it (the byte counters; 0 from older gateways)


class CountReceived(msgspec.Struct, frozen=True):
    """Bytes of an upload the gateway dropped because the blob was already stored."""

    received: int


class BlobStats(msgspec.Struct, frozen=True):
    """Cluster-wide byte counters (see services/hashing/arkive_hashing/stats.py)."""

    blobs_indexed: int
    logical_bytes: int
    physical_objects: int
    physical_bytes: int
    pack_objects: int
    pack_bytes: int
    bytes_received: int
    bytes_stored: int
    blobs_stored: int


class Registered(msgspec.Struct, frozen=True):
    blob: BlobInfo
    already_present: bool


# Chunk dedup (services/hashing/arkive_hashing/chunks.py): a composite blob's index row has this
# key prefix instead of an object key; its bytes are its recipe's chunks in order.
RECIPE_KEY_PREFIX = "recipe:"


class ComposeBlob(msgspec.Struct, frozen=True):
    """One part of a composite's recipe (chunk digests from number `first` on); parts before the
    last are staged under `upload_id`, the last registers the blob."""

    upload_id: str
    digest: str
    size: int
    first: int
    chunks: list[str]
    last: bool


class Composed(msgspec.Struct, frozen=True):
    already_present: bool = False


class RecipeQuery(msgspec.Struct, frozen=True):
    digest: str
    offset: int = 0  # the first chunk returned is the one holding this byte of the composite
    limit: int = 2000


class RecipePage(msgspec.Struct, frozen=True):
    chunks: list[tuple[int, BlobInfo]]  # (position in the composite, where the chunk lives)


# --- ingest -------------------------------------------------------------------------------------


class CreateDraft(msgspec.Struct, frozen=True):
    project: str
    name: str
    type: str
    base_ref: str = ""  # start with every entry of this version of project/name
    request_id: str = ""  # the client's id of this request: a repeat gets the same draft


class DraftCreatedReply(msgspec.Struct, frozen=True):
    draft_id: str


class AddFiles(msgspec.Struct, frozen=True):
    draft_id: str
    entries: list[tuple[str, str, int]]


class FileCount(msgspec.Struct, frozen=True):
    file_count: int


class CommitDraft(msgspec.Struct, frozen=True):
    draft_id: str
    metadata: dict[str, Any] = {}
    description: str = ""
    aliases: list[str] = []
    tags: list[str] = []
    label: str = ""
    run_id: str = ""
    entries: list[tuple[str, str, int]] = []  # added in the commit's transaction, as AddFiles would


class VersionView(msgspec.Struct, frozen=True):
    version_id: str
    project: str
    name: str
    type: str
    version: int
    manifest_digest: str
    file_count: int
    total_size: int
    metadata: dict[str, Any]
    description: str
    aliases: list[str]
    tags: list[str]
    label: str
    created_at: float
    # A link as listed in its registry collection: project/name/version are the registry's and
    # this is the source ref ("demo/clf:v3"); "" for a version in its own collection.
    linked_from: str = ""


class Committed(msgspec.Struct, frozen=True):
    version: VersionView
    created: bool


class GetVersion(msgspec.Struct, frozen=True):
    ref: str
    as_of: float | None = None


class FindByManifest(msgspec.Struct, frozen=True):
    project: str
    name: str
    manifest_digest: str


class MaybeVersion(msgspec.Struct, frozen=True):
    version: VersionView | None = None


class AssignAliases(msgspec.Struct, frozen=True):
    ref: str
    aliases: list[str]


class ListVersions(msgspec.Struct, frozen=True):
    project: str
    name: str
    page_size: int = 100
    page_token: str = ""


class VersionPage(msgspec.Struct, frozen=True):
    versions: list[VersionView]
    next_page_token: str = ""


class ListArtifacts(msgspec.Struct, frozen=True):
    project: str
    type: str = ""
    page_size: int = 100
    page_token: str = ""


class CollectionView(msgspec.Struct, frozen=True):
    project: str
    name: str
    type: str
    version_count: int
    created_at: float
    latest: VersionView | None = None


class CollectionPage(msgspec.Struct, frozen=True):
    artifacts: list[CollectionView]
    next_page_token: str = ""


class ListFiles(msgspec.Struct, frozen=True):
    ref: str
    page_size: int = 1000
    page_token: str = ""
    path_prefix: str = ""  # a folder: "a/b" matches "a/b" and "a/b/...", not "a/bc"


class FilePage(msgspec.Struct, frozen=True):
    files: list[tuple[str, str, int]]
    next_page_token: str = ""
    # Reference entries among `files` (path, uri, etag, version_id, checksum); see api_refs.
    references: list[tuple[str, str, str, str, bool]] = []


class UpsertFiles(msgspec.Struct, frozen=True):
    project: str
    name: str
    type: str
    distributed_id: str
    entries: list[tuple[str, str, int]]
    overwrite: bool = False
    start_new: bool = False


class Upserted(msgspec.Struct, frozen=True):
    draft_id: str
    file_count: int


class FinishDistributed(msgspec.Struct, frozen=True):
    project: str
    name: str
    distributed_id: str
    metadata: dict[str, Any] = {}
    description: str = ""
    aliases: list[str] = []
    tags: list[str] = []
    label: str = ""
    run_id: str = ""


class ListDrafts(msgspec.Struct, frozen=True):
    project: str
    idle_seconds: int = 0


class DraftView(msgspec.Struct, frozen=True):
    draft_id: str
    project: str
    name: str
    type: str
    distributed_id: str
    file_count: int
    created_at: float
    updated_at: float


class DraftList(msgspec.Struct, frozen=True):
    drafts: list[DraftView]


class AbortDraft(msgspec.Struct, frozen=True):
    draft_id: str


class RemoveFiles(msgspec.Struct, frozen=True):
    draft_id: str
    paths: list[str] = []
    prefixes: list[str] = []


class FilesRemoved(msgspec.Struct, frozen=True):
    removed: int
    file_count: int
