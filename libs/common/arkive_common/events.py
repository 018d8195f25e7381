"""The event catalogue: every event arkive records, as msgspec Structs.

Events are facts in the past tense. Each type has a `schema_version`; a field added later gets a
default so old events still decode (upcasting by default values). The log stores the msgpack of the
Struct together with its type name and schema version; the bus carries the same bytes.
Streams: "collection-<project>/<name>", "draft-<draft_id>", "blob-<sha256 hex>".
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event; the class name is the event type recorded beside it."""

    schema_version: ClassVar[int] = 1


# --- collection streams (owned by ingest) -------------------------------------------------------


class CollectionCreated(Event, frozen=True, kw_only=True):
    project: str
    name: str
    type: str
    created_at: float


class VersionCommitted(Event, frozen=True, kw_only=True):
    """v2 added run_id: the run that logged the version ("" when logged outside a run)."""

    schema_version: ClassVar[int] = 2
    version_id: str
    project: str
    name: str
    type: str
    version: int
    manifest_digest: str
    file_count: int
    total_size: int
    draft_id: str
    metadata: dict[str, Any] = {}
    description: str = ""
    tags: list[str] = []
    label: str = ""
    created_at: float
    run_id: str = ""


class AliasAssigned(Event, frozen=True, kw_only=True):
    """`alias` now points at `version_id`; it left `previous_version_id` (empty if it was new)."""

    project: str
    name: str
    alias: str
    version_id: str
    version: int
    previous_version_id: str = ""


# --- draft streams (owned by ingest) ------------------------------------------------------------


class DraftCreated(Event, frozen=True, kw_only=True):
    """v2 added distributed_id: the shared id of workers upserting into one draft ("" for a plain draft).
    v3 added base_version_id: the draft starts with every entry of that version of the same
    project/name ("" for an empty draft); the entries are not repeated in the event, the read model
    copies them from the base's manifest, which exists at this point of the log.
    v4 added request_id: the client's id of the CreateDraft request ("" if it sent none); a request
    repeating it gets this draft (a retry after a lost answer opens no second draft)."""

    schema_version: ClassVar[int] = 4
    draft_id: str
    project: str
    name: str
    type: str
    created_at: float
    distributed_id: str = ""
    base_version_id: str = ""
    request_id: str = ""


class DraftFilesAdded(Event, frozen=True, kw_only=True):
    """Entries (path, digest, size) added to a draft; a path added again replaces the earlier entry.
    v2 added added_at (0.0 in v1 events)."""

    schema_version: ClassVar[int] = 2
    draft_id: str
    entries: list[tuple[str, str, int]]
    added_at: float = 0.0


class DraftFilesRemoved(Event, frozen=True, kw_only=True):
    """Entries removed from an open draft: exact `paths`, and folder `prefixes` (a prefix "p" removes
    "p/..." and a file named exactly "p"). At most 500 of both together (limits.MAX_REMOVALS_PER_CALL)."""

    draft_id: str
    paths: list[str] = []
    prefixes: list[str] = []
    removed_at: float


class DraftCommitted(Event, frozen=True, kw_only=True):
    draft_id: str
    version_id: str
    created: bool


class DraftReferencesAdded(Event, frozen=True, kw_only=True):
    """Reference entries added to a draft: (path, uri, etag, version_id, checksum, digest, size) each,
    data outside arkive that is never copied (digest: the sha256 of a file:// source, else "").
    A path added again replaces the earlier reference. At most 200 entries of URIs <= 2 KiB per
    event, so one stays below eventlog.MAX_EVENT_BYTES."""

    draft_id: str
    entries: list[tuple[str, str, str, str, bool, str, int]]
    added_at: float = 0.0


class DraftAborted(Event, frozen=True, kw_only=True):
    """The draft will never be committed; its entries are dropped (their blobs fall to GC)."""

    draft_id: str
    aborted_at: float
    reason: str = ""


# --- run streams (owned by lineage) -------------------------------------------------------------


class RunStarted(Event, frozen=True, kw_only=True):
    run_id: str
    project: str
    name: str
    job_type: str
    group: str
    config: dict[str, Any] = {}
    heartbeat_timeout: int
    started_at: float


class ArtifactUsed(Event, frozen=True, kw_only=True):
    """The run used this exact version (what its ref resolved to at that moment)."""

    run_id: str
    version_id: str
    project: str
    name: str
    type: str
    version: int
    ref: str
    used_at: float
    version_created_at: float


class CacheKeyRecorded(Event, frozen=True, kw_only=True):
    run_id: str
    project: str
    cache_key: str
    version_ids: list[str]
    recorded_at: float


class RunFinished(Event, frozen=True, kw_only=True):
    """state is "finished" or "failed"."""

    run_id: str
    state: str
    finished_at: float


class RunCrashed(Event, frozen=True, kw_only=True):
    """No heartbeat for longer than the run's timeout: its client is presumed gone."""

    run_id: str
    last_heartbeat: float
    detected_at: float


# --- blob streams (owned by hashing) ------------------------------------------------------------


class BlobsPacked(Event, frozen=True, kw_only=True):
    """Small blobs, each verified by the server, stored together in one object (a pack) at `key`:
    (digest, size, offset) per member. Members whose digest was already indexed are not indexed
    again (their bytes in the pack are dead weight until the pack is collected)."""

    key: str
    blobs: list[tuple[str, int, int]]
    stored_at: float


class BlobStored(Event, frozen=True, kw_only=True):
    """Bytes whose sha256 the server verified now live at `key` in the blob bucket."""

    digest: str
    size: int
    key: str
    stored_at: float


class BlobChunked(Event, frozen=True, kw_only=True):
    """Hashing cut the stored blob `digest` (object `key`) into content-defined chunks: (digest,
    size, offset in the object) each, indexed as blobs of their own. Split into parts of at most
    2,000 chunks (one event each); `part` counts from 0."""

    digest: str
    key: str
    chunks: list[tuple[str, int, int]]
    part: int = 0
    chunked_at: float


class BlobComposed(Event, frozen=True, kw_only=True):
    """A blob whose verified bytes are the concatenation of indexed chunks: (chunk digest, size) in
    order, starting at chunk number `first` (parts of at most 2,000 chunks; part 0 has first=0)."""

    digest: str
    size: int
    chunks: list[tuple[str, int]]
    first: int = 0
    composed_at: float


# --- retention (deletion events live on collection streams, owned by ingest) --------------------


class VersionsDeleted(Event, frozen=True, kw_only=True):
    """Soft delete: these versions are hidden from reads; their bytes stay until the undelete grace
    window has passed and garbage collection frees what nothing else references. One event carries
    a batch (at most 1000) so deleting 10,000 versions is a handful of events, not 10,000."""

    project: str
    name: str
    version_ids: list[str]
    versions: list[int]
    reason: str = ""
    deleted_at: float
    purged: bool = False  # irrevocable: no undelete, GC may free the bytes at once


class VersionsUndeleted(Event, frozen=True, kw_only=True):
    project: str
    name: str
    version_ids: list[str]
    versions: list[int]
    undeleted_at: float


class AliasRemoved(Event, frozen=True, kw_only=True):
    """`alias` no longer points anywhere: its version was deleted (`with_version`; undelete puts it
    back unless the alias was assigned elsewhere meanwhile), or it was removed by hand."""

    project: str
    name: str
    alias: str
    version_id: str
    with_version: bool = False


# --- retention streams "retention-<project>" (owned by retention) ------------------------------


class VersionTtlSet(Event, frozen=True, kw_only=True):
    """ttl_seconds: -1 inherit the project/type default, 0 never expire, > 0 expire that long after commit."""

    project: str
    name: str
    version_id: str
    ttl_seconds: int
    set_at: float


class DefaultTtlSet(Event, frozen=True, kw_only=True):
    """Default TTL of a project's versions of `type` ("" = every type); ttl_seconds 0 removes it."""

    project: str
    type: str
    ttl_seconds: int
    set_at: float


class RetentionPolicySet(Event, frozen=True, kw_only=True):
    """A declarative policy (api_retention.Policy as a dict), created or replaced by name."""

    project: str
    policy_name: str
    spec: dict[str, Any]
    set_at: float


class RetentionPolicyRemoved(Event, frozen=True, kw_only=True):
    project: str
    policy_name: str
    removed_at: float


# --- garbage collection streams "gc-<sweep id>" (owned by hashing) ------------------------------


class BlobsDeleted(Event, frozen=True, kw_only=True):
    """GC removed these (digest, object key, size) from the content index; the S3 objects are
    deleted only after this event committed (a crash in between leaves objects GC removes later)."""

    sweep_id: str
    blobs: list[tuple[str, str, int]]
    deleted_at: float


class BlobsCorrupted(Event, frozen=True, kw_only=True):
    """The bytes stored for these (digest, object key, size) no longer hash to the digest (or the
    object is gone): they leave the content index, so the next upload of those bytes stores them
    again instead of being told they exist. The object is left where it is (other pack members may
    be sound); GC treats it like any object the index no longer names."""

    blobs: list[tuple[str, str, int]]
    reason: str
    found_by: str  # "scrub" or "download"
    found_at: float


class BlobsRepacked(Event, frozen=True, kw_only=True):
    """The live members of a partly collected pack were copied (read by range, sha256 re-verified)
    into a new pack object: (digest, size, offset in new_key) per member moved out of old_key. The
    old object is deleted after a read grace period, so reads that resolved it finish."""

    old_key: str
    new_key: str
    blobs: list[tuple[str, int, int]]
    repacked_at: float


# --- catalogue: annotations after commit and registry links (collection streams, owned by ingest)


class VersionMetadataUpdated(Event, frozen=True, kw_only=True):
    """Top-level metadata keys set (`assigned`) or removed (`unset`) after commit; `metadata` is the
    whole result, so a consumer applying events out of order can keep the newest by stream version.
    The version's files and manifest digest never change."""

    project: str
    name: str
    version_id: str
    version: int
    assigned: dict[str, Any] = {}
    unset: list[str] = []
    metadata: dict[str, Any] = {}
    updated_at: float


class VersionTagsUpdated(Event, frozen=True, kw_only=True):
    """Tags added and removed after commit; `tags` is the resulting list."""

    project: str
    name: str
    version_id: str
    version: int
    added: list[str] = []
    removed: list[str] = []
    tags: list[str] = []
    updated_at: float


class VersionDescriptionSet(Event, frozen=True, kw_only=True):
    project: str
    name: str
    version_id: str
    version: int
    description: str
    updated_at: float


class VersionLinked(Event, frozen=True, kw_only=True):
    """A version of another collection (often of another project) is linked into this collection
    (project/name, e.g. "registry/model-zoo-resnet") as its link number `version`. No bytes are
    copied: the link names the source version, whose manifest it shares."""

    project: str
    name: str
    version: int
    version_id: str  # the source version
    source_project: str
    source_name: str
    source_version: int
    type: str
    manifest_digest: str
    linked_at: float


class VersionUnlinked(Event, frozen=True, kw_only=True):
    """Link number `version` of project/name is removed (the source version stays where it is).
    Link numbers are never reused; the collection's aliases on the link are removed beside it."""

    project: str
    name: str
    version: int
    version_id: str  # the source version the link named
    unlinked_at: float


# --- principals "principal-<principal id>" and grants "grant-<project>" (owned by ingest's auth) --


class PrincipalCreated(Event, frozen=True, kw_only=True):
    """A user or a service account; the principal id is its unique name."""

    principal_id: str
    kind: str  # "user" or "service"
    global_admin: bool = False
    created_by: str = ""
    created_at: float


class TokenIssued(Event, frozen=True, kw_only=True):
    """Only the sha256 of the secret is recorded (see arkive_core.tokens); expires_at 0 = never."""

    principal_id: str
    token_id: str
    name: str
    secret_sha256: str
    expires_at: float = 0.0
    issued_by: str = ""
    issued_at: float


class TokenRevoked(Event, frozen=True, kw_only=True):
    principal_id: str
    token_id: str
    revoked_by: str = ""
    revoked_at: float


class RoleGranted(Event, frozen=True, kw_only=True):
    """`principal_id` holds `role` (reader, writer, admin) on `project`, replacing an earlier role."""

    project: str
    principal_id: str
    role: str
    granted_by: str = ""
    granted_at: float


class RoleRevoked(Event, frozen=True, kw_only=True):
    project: str
    principal_id: str
    revoked_by: str = ""
    revoked_at: float


ALL_EVENTS: tuple[type[Event], ...] = (
    CollectionCreated,
    VersionCommitted,
    AliasAssigned,
    DraftCreated,
    DraftFilesAdded,
    DraftFilesRemoved,
    DraftCommitted,
    DraftAborted,
    BlobStored,
    BlobsPacked,
    BlobChunked,
    BlobComposed,
    RunStarted,
    ArtifactUsed,
    CacheKeyRecorded,
    RunFinished,
    RunCrashed,
    VersionsDeleted,
    VersionsUndeleted,
    AliasRemoved,
    VersionTtlSet,
    DefaultTtlSet,
    RetentionPolicySet,
    RetentionPolicyRemoved,
    BlobsDeleted,
    VersionMetadataUpdated,
    VersionTagsUpdated,
    VersionDescriptionSet,
    VersionLinked,
    VersionUnlinked,
    DraftReferencesAdded,
    BlobsRepacked,
    BlobsCorrupted,
    PrincipalCreated,
    TokenIssued,
    TokenRevoked,
    RoleGranted,
    RoleRevoked,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in ALL_EVENTS}

_encoder = msgspec.msgpack.Encoder()


def event_type(event: Event) -> str:
    return type(event).__name__


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(type_name: str, data: bytes) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"unknown event type {type_name!r}")
    return msgspec.msgpack.decode(data, type=cls)


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """An event as recorded: the log row, also the message body on the bus."""

    id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: bytes
    position: int = 0
    causation_id: str = ""
    correlation_id: str = ""
    recorded_at: float = 0.0
    principal: str = ""  # who asked for it ("" = the system: sweeps, crash detection)
    traceparent: str = ""  # W3C trace context of the append ("" = untraced; see tracing.py)

    def event(self) -> Event:
        return decode_event(self.type, self.data)


_env_encoder = msgspec.msgpack.Encoder()
_env_decoder = msgspec.msgpack.Decoder(Envelope)


def encode_envelope(env: Envelope) -> bytes:
    return _env_encoder.encode(env)


def decode_envelope(data: bytes) -> Envelope:
    return _env_decoder.decode(data)
