import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VersionChange(_message.Message):
    __slots__ = ("version_id", "version")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    version: int
    def __init__(self, version_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SkippedVersion(_message.Message):
    __slots__ = ("version_id", "version", "reason")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    version: int
    reason: str
    def __init__(self, version_id: _Optional[str] = ..., version: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteVersionRequest(_message.Message):
    __slots__ = ("ref", "delete_aliases", "purge", "confirm")
    REF_FIELD_NUMBER: _ClassVar[int]
    DELETE_ALIASES_FIELD_NUMBER: _ClassVar[int]
    PURGE_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    ref: str
    delete_aliases: bool
    purge: bool
    confirm: bool
    def __init__(self, ref: _Optional[str] = ..., delete_aliases: _Optional[bool] = ..., purge: _Optional[bool] = ..., confirm: _Optional[bool] = ...) -> None: ...

class DeleteVersionResponse(_message.Message):
    __slots__ = ("deleted", "skipped")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedCompositeFieldContainer[VersionChange]
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedVersion]
    def __init__(self, deleted: _Optional[_Iterable[_Union[VersionChange, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SkippedVersion, _Mapping]]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("project", "name", "delete_aliases", "purge", "confirm")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELETE_ALIASES_FIELD_NUMBER: _ClassVar[int]
    PURGE_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    delete_aliases: bool
    purge: bool
    confirm: bool
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., delete_aliases: _Optional[bool] = ..., purge: _Optional[bool] = ..., confirm: _Optional[bool] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("deleted", "skipped")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedCompositeFieldContainer[VersionChange]
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedVersion]
    def __init__(self, deleted: _Optional[_Iterable[_Union[VersionChange, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SkippedVersion, _Mapping]]] = ...) -> None: ...

class UndeleteVersionRequest(_message.Message):
    __slots__ = ("ref",)
    REF_FIELD_NUMBER: _ClassVar[int]
    ref: str
    def __init__(self, ref: _Optional[str] = ...) -> None: ...

class UndeleteVersionResponse(_message.Message):
    __slots__ = ("undeleted",)
    UNDELETED_FIELD_NUMBER: _ClassVar[int]
    undeleted: _containers.RepeatedCompositeFieldContainer[VersionChange]
    def __init__(self, undeleted: _Optional[_Iterable[_Union[VersionChange, _Mapping]]] = ...) -> None: ...

class UndeleteCollectionRequest(_message.Message):
    __slots__ = ("project", "name")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UndeleteCollectionResponse(_message.Message):
    __slots__ = ("undeleted",)
    UNDELETED_FIELD_NUMBER: _ClassVar[int]
    undeleted: _containers.RepeatedCompositeFieldContainer[VersionChange]
    def __init__(self, undeleted: _Optional[_Iterable[_Union[VersionChange, _Mapping]]] = ...) -> None: ...

class SetVersionTtlRequest(_message.Message):
    __slots__ = ("ref", "ttl_seconds")
    REF_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ref: str
    ttl_seconds: int
    def __init__(self, ref: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class SetVersionTtlResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetDefaultTtlRequest(_message.Message):
    __slots__ = ("project", "type", "ttl_seconds")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    project: str
    type: str
    ttl_seconds: int
    def __init__(self, project: _Optional[str] = ..., type: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class SetDefaultTtlResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RetentionPolicy(_message.Message):
    __slots__ = ("project", "name", "type", "name_pattern", "keep_last", "keep_best", "metric", "mode", "max_age_seconds", "manual")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_PATTERN_FIELD_NUMBER: _ClassVar[int]
    KEEP_LAST_FIELD_NUMBER: _ClassVar[int]
    KEEP_BEST_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    type: str
    name_pattern: str
    keep_last: int
    keep_best: int
    metric: str
    mode: str
    max_age_seconds: int
    manual: bool
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., name_pattern: _Optional[str] = ..., keep_last: _Optional[int] = ..., keep_best: _Optional[int] = ..., metric: _Optional[str] = ..., mode: _Optional[str] = ..., max_age_seconds: _Optional[int] = ..., manual: _Optional[bool] = ...) -> None: ...

class PutPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: RetentionPolicy
    def __init__(self, policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class PutPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: RetentionPolicy
    def __init__(self, policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class RemovePolicyRequest(_message.Message):
    __slots__ = ("project", "name")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RemovePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: str
    def __init__(self, project: _Optional[str] = ...) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies", "default_ttls")
    class DefaultTtlsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TTLS_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[RetentionPolicy]
    default_ttls: _containers.ScalarMap[str, int]
    def __init__(self, policies: _Optional[_Iterable[_Union[RetentionPolicy, _Mapping]]] = ..., default_ttls: _Optional[_Mapping[str, int]] = ...) -> None: ...

class PlanRetentionRequest(_message.Message):
    __slots__ = ("project", "as_of", "limit")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    project: str
    as_of: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, project: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class PlannedDeletion(_message.Message):
    __slots__ = ("project", "name", "version_id", "version", "reasons")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    version_id: str
    version: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., version: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class PlanRetentionResponse(_message.Message):
    __slots__ = ("deletions", "protected_versions", "total_deletions", "protected")
    DELETIONS_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DELETIONS_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    deletions: _containers.RepeatedCompositeFieldContainer[PlannedDeletion]
    protected_versions: int
    total_deletions: int
    protected: _containers.RepeatedCompositeFieldContainer[ProtectedVersion]
    def __init__(self, deletions: _Optional[_Iterable[_Union[PlannedDeletion, _Mapping]]] = ..., protected_versions: _Optional[int] = ..., total_deletions: _Optional[int] = ..., protected: _Optional[_Iterable[_Union[ProtectedVersion, _Mapping]]] = ...) -> None: ...

class ProtectedVersion(_message.Message):
    __slots__ = ("project", "name", "version_id", "version", "reasons", "aliases")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    version_id: str
    version: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version_id: _Optional[str] = ..., version: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ApplyRetentionRequest(_message.Message):
    __slots__ = ("project", "as_of")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    project: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, project: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApplyRetentionResponse(_message.Message):
    __slots__ = ("deleted", "skipped")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedVersion]
    def __init__(self, deleted: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[SkippedVersion, _Mapping]]] = ...) -> None: ...

class CollectGarbageRequest(_message.Message):
    __slots__ = ("grace_seconds", "dry_run", "digests", "skip_staging", "repack", "repack_read_grace_seconds", "confirm")
    GRACE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    SKIP_STAGING_FIELD_NUMBER: _ClassVar[int]
    REPACK_FIELD_NUMBER: _ClassVar[int]
    REPACK_READ_GRACE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    grace_seconds: float
    dry_run: bool
    digests: _containers.RepeatedScalarFieldContainer[str]
    skip_staging: bool
    repack: bool
    repack_read_grace_seconds: float
    confirm: bool
    def __init__(self, grace_seconds: _Optional[float] = ..., dry_run: _Optional[bool] = ..., digests: _Optional[_Iterable[str]] = ..., skip_staging: _Optional[bool] = ..., repack: _Optional[bool] = ..., repack_read_grace_seconds: _Optional[float] = ..., confirm: _Optional[bool] = ...) -> None: ...

class CollectGarbageResponse(_message.Message):
    __slots__ = ("sweep_id", "blobs_total", "bytes_total", "blobs_unreferenced", "blobs_deleted", "bytes_freed", "staging_deleted", "pending_purged", "seconds", "packs_repacked", "blobs_repacked", "bytes_repacked", "repacked_objects_deleted")
    SWEEP_ID_FIELD_NUMBER: _ClassVar[int]
    BLOBS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    BYTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    BLOBS_UNREFERENCED_FIELD_NUMBER: _ClassVar[int]
    BLOBS_DELETED_FIELD_NUMBER: _ClassVar[int]
    BYTES_FREED_FIELD_NUMBER: _ClassVar[int]
    STAGING_DELETED_FIELD_NUMBER: _ClassVar[int]
    PENDING_PURGED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    PACKS_REPACKED_FIELD_NUMBER: _ClassVar[int]
    BLOBS_REPACKED_FIELD_NUMBER: _ClassVar[int]
    BYTES_REPACKED_FIELD_NUMBER: _ClassVar[int]
    REPACKED_OBJECTS_DELETED_FIELD_NUMBER: _ClassVar[int]
    sweep_id: str
    blobs_total: int
    bytes_total: int
    blobs_unreferenced: int
    blobs_deleted: int
    bytes_freed: int
    staging_deleted: int
    pending_purged: int
    seconds: float
    packs_repacked: int
    blobs_repacked: int
    bytes_repacked: int
    repacked_objects_deleted: int
    def __init__(self, sweep_id: _Optional[str] = ..., blobs_total: _Optional[int] = ..., bytes_total: _Optional[int] = ..., blobs_unreferenced: _Optional[int] = ..., blobs_deleted: _Optional[int] = ..., bytes_freed: _Optional[int] = ..., staging_deleted: _Optional[int] = ..., pending_purged: _Optional[int] = ..., seconds: _Optional[float] = ..., packs_repacked: _Optional[int] = ..., blobs_repacked: _Optional[int] = ..., bytes_repacked: _Optional[int] = ..., repacked_objects_deleted: _Optional[int] = ...) -> None: ...

class GetStorageReportRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: str
    def __init__(self, project: _Optional[str] = ...) -> None: ...

class CollectionStorage(_message.Message):
    __slots__ = ("project", "name", "versions", "deleted_versions", "logical_bytes", "referenced_bytes")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    DELETED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    REFERENCED_BYTES_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    versions: int
    deleted_versions: int
    logical_bytes: int
    referenced_bytes: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., versions: _Optional[int] = ..., deleted_versions: _Optional[int] = ..., logical_bytes: _Optional[int] = ..., referenced_bytes: _Optional[int] = ...) -> None: ...

class GetStorageReportResponse(_message.Message):
    __slots__ = ("blobs_stored", "bytes_stored", "collections", "reclaimable_blobs", "reclaimable_bytes")
    BLOBS_STORED_FIELD_NUMBER: _ClassVar[int]
    BYTES_STORED_FIELD_NUMBER: _ClassVar[int]
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    RECLAIMABLE_BLOBS_FIELD_NUMBER: _ClassVar[int]
    RECLAIMABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    blobs_stored: int
    bytes_stored: int
    collections: _containers.RepeatedCompositeFieldContainer[CollectionStorage]
    reclaimable_blobs: int
    reclaimable_bytes: int
    def __init__(self, blobs_stored: _Optional[int] = ..., bytes_stored: _Optional[int] = ..., collections: _Optional[_Iterable[_Union[CollectionStorage, _Mapping]]] = ..., reclaimable_blobs: _Optional[int] = ..., reclaimable_bytes: _Optional[int] = ...) -> None: ...

class GetVersionTtlRequest(_message.Message):
    __slots__ = ("ref",)
    REF_FIELD_NUMBER: _ClassVar[int]
    ref: str
    def __init__(self, ref: _Optional[str] = ...) -> None: ...

class GetVersionTtlResponse(_message.Message):
    __slots__ = ("ttl_seconds", "source", "expires_at")
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ttl_seconds: int
    source: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, ttl_seconds: _Optional[int] = ..., source: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
