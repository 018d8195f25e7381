"""Bus requests and replies of the retention feature: deletion (ingest), garbage collection and
leases (hashing), TTLs, policies and plans (retention)."""

from __future__ import annotations

from typing import Literal

import msgspec

MAX_IDS_PER_EVENT = 1000


class DeleteVersions(msgspec.Struct, frozen=True):
    """Soft-deletes versions of one collection (all of them with whole_collection).

    delete_aliases: also remove user aliases held by those versions (else refused while aliased);
    skip_protected: skip aliased versions instead of refusing (what retention asks for)."""

    project: str
    name: str
    version_ids: list[str] = []
    whole_collection: bool = False
    delete_aliases: bool = False
    skip_protected: bool = False
    reason: str = "user"
    purge: bool = False  # irrevocable: no undelete, GC may free the bytes at once


class VersionRef(msgspec.Struct, frozen=True):
    version_id: str
    version: int


class SkippedVersion(msgspec.Struct, frozen=True):
    version_id: str
    version: int
    why: str


class DeleteResult(msgspec.Struct, frozen=True):
    deleted: list[VersionRef] = []
    skipped: list[SkippedVersion] = []


class UndeleteVersions(msgspec.Struct, frozen=True):
    project: str
    name: str
    version_ids: list[str] = []
    whole_collection: bool = False


class ResolveAny(msgspec.Struct, frozen=True):
    ref: str


class ResolvedRef(msgspec.Struct, frozen=True):
    project: str
    name: str
    version_id: str
    version: int
    deleted: bool


class Digests(msgspec.Struct, frozen=True):
    digests: list[str]


class StorageUsage(msgspec.Struct, frozen=True):
    project: str = ""


class CollectionUsage(msgspec.Struct, frozen=True):
    project: str
    name: str
    versions: int
    deleted_versions: int
    logical_bytes: int  # sum of the live versions' sizes (shared files counted per version)
    referenced_bytes: int  # distinct blobs the live versions reference


class UsageReport(msgspec.Struct, frozen=True):
    collections: list[CollectionUsage]


DEFAULT_REPACK_READ_GRACE = 3600.0


class CollectGarbage(msgspec.Struct, frozen=True):
    """Mark and sweep. grace_seconds: blobs stored or leased more recently are never deleted, nor are
    staging objects younger than that. digests: limit the sweep to these blobs (tests, targeted GC);
    empty = every blob. staging_prefix: limit the staging sweep to keys under it ("" = all blobs/)."""

    grace_seconds: float = 86_400.0
    dry_run: bool = False
    digests: list[str] = []
    staging: bool = True
    staging_prefix: str = ""
    batch_size: int = 1000
    repack: bool = False  # then rewrite packs whose live bytes fell below half (hashing/repack.py)
    repack_read_grace_seconds: float = (
        DEFAULT_REPACK_READ_GRACE  # old pack objects are deleted this long after the switch
    )


class GcResult(msgspec.Struct, frozen=True):
    sweep_id: str
    blobs_total: int
    bytes_total: int
    blobs_unreferenced: int
    blobs_deleted: int
    bytes_freed: int
    staging_deleted: int
    pending_purged: int
    seconds: float
    packs_repacked: int = 0
    blobs_repacked: int = 0
    bytes_repacked: int = 0
    repacked_objects_deleted: int = 0


# retention


class SetVersionTtl(msgspec.Struct, frozen=True):
    """ttl_seconds: -1 inherit the default, 0 never expire, > 0 seconds after the commit."""

    ref: str
    ttl_seconds: int


class SetDefaultTtl(msgspec.Struct, frozen=True):
    project: str
    ttl_seconds: int
    type: str = ""


class Policy(msgspec.Struct, frozen=True, omit_defaults=True):
    """Keep rules are unions (a version any keep rule keeps stays); max_age_seconds limits deletion
    to older versions; with only max_age every older version goes. Versions holding an alias other
    than latest are never deleted by a policy."""

    project: str
    name: str
    type: str = ""  # only collections of this type
    name_pattern: str = ""  # fnmatch pattern on the collection name
    keep_last: int = 0
    keep_best: int = 0
    metric: str = ""  # metadata key, dotted for nested ("metrics.accuracy")
    mode: Literal["max", "min"] = "max"
    max_age_seconds: int = 0
    manual: bool = False  # applied only on request (ApplyRetention), never by the schedule


class PolicyRef(msgspec.Struct, frozen=True):
    project: str
    name: str


class ProjectQuery(msgspec.Struct, frozen=True):
    project: str


class PolicyList(msgspec.Struct, frozen=True):
    policies: list[Policy]
    default_ttls: dict[str, int] = {}  # type ("" = every type) -> seconds


class PlanRequest(msgspec.Struct, frozen=True):
    """as_of: evaluate TTLs and ages at this time (0 = now); an injectable clock for tests and
    "what would go next week" dry runs."""

    project: str
    as_of: float = 0.0
    limit: int = 1000  # deletions listed in the reply (one gRPC message to the client); 0 = default


class PlannedDeletion(msgspec.Struct, frozen=True):
    project: str
    name: str
    version_id: str
    version: int
    reasons: list[str]


class ProtectedVersion(msgspec.Struct, frozen=True):
    project: str
    name: str
    version_id: str
    version: int
    reasons: list[str]
    aliases: list[str]  # "production", or a registry link's "registry/zoo:production"


class Plan(msgspec.Struct, frozen=True):
    deletions: list[PlannedDeletion]
    protected: int = 0  # versions a rule would delete but an alias keeps
    total: int = 0  # deletions planned (the list may be cut at the request's limit)
    protected_versions: list[ProtectedVersion] = []


class ApplyResult(msgspec.Struct, frozen=True):
    deleted: int
    skipped: list[SkippedVersion] = []


class VersionTtl(msgspec.Struct, frozen=True):
    """The TTL in force for one version: ttl_seconds 0 = never expires (expires_at 0 then)."""

    ttl_seconds: int
    source: str  # "version", "type default", "project default" or "none"
    expires_at: float = 0.0
