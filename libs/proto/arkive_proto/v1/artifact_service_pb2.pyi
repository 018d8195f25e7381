import datetime

from arkive_proto.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_CHANGE_KIND_UNSPECIFIED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_ADDED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_REMOVED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_CHANGED: _ClassVar[FileChangeKind]
FILE_CHANGE_KIND_UNSPECIFIED: FileChangeKind
FILE_CHANGE_KIND_ADDED: FileChangeKind
FILE_CHANGE_KIND_REMOVED: FileChangeKind
FILE_CHANGE_KIND_CHANGED: FileChangeKind

class CreateDraftRequest(_message.Message):
    __slots__ = ("project", "name", "type", "base_ref", "request_id")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BASE_REF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    type: str
    base_ref: str
    request_id: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., base_ref: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateDraftResponse(_message.Message):
    __slots__ = ("draft_id", "commit_takes_files")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TAKES_FILES_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    commit_takes_files: bool
    def __init__(self, draft_id: _Optional[str] = ..., commit_takes_files: _Optional[bool] = ...) -> None: ...

class AddFilesRequest(_message.Message):
    __slots__ = ("draft_id", "files")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    files: _containers.RepeatedCompositeFieldContainer[_types_pb2.FileEntry]
    def __init__(self, draft_id: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_types_pb2.FileEntry, _Mapping]]] = ...) -> None: ...

class AddFilesResponse(_message.Message):
    __slots__ = ("file_count",)
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    file_count: int
    def __init__(self, file_count: _Optional[int] = ...) -> None: ...

class CommitDraftRequest(_message.Message):
    __slots__ = ("draft_id", "metadata_json", "description", "aliases", "tags", "label", "run_id", "files")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    metadata_json: str
    description: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    label: str
    run_id: str
    files: _containers.RepeatedCompositeFieldContainer[_types_pb2.FileEntry]
    def __init__(self, draft_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., description: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., label: _Optional[str] = ..., run_id: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_types_pb2.FileEntry, _Mapping]]] = ...) -> None: ...

class CommitDraftResponse(_message.Message):
    __slots__ = ("version", "created")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    created: bool
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetVersionRequest(_message.Message):
    __slots__ = ("ref", "as_of")
    REF_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ref: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, ref: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ...) -> None: ...

class FindVersionByManifestRequest(_message.Message):
    __slots__ = ("project", "name", "manifest_digest")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    manifest_digest: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., manifest_digest: _Optional[str] = ...) -> None: ...

class FindVersionByManifestResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ...) -> None: ...

class AssignAliasesRequest(_message.Message):
    __slots__ = ("ref", "aliases")
    REF_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    ref: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ref: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class AssignAliasesResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("project", "name", "page_size", "page_token")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    page_size: int
    page_token: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_types_pb2.Version]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[_types_pb2.Version, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListArtifactsRequest(_message.Message):
    __slots__ = ("project", "type", "page_size", "page_token")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project: str
    type: str
    page_size: int
    page_token: str
    def __init__(self, project: _Optional[str] = ..., type: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListArtifactsResponse(_message.Message):
    __slots__ = ("artifacts", "next_page_token")
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifacts: _containers.RepeatedCompositeFieldContainer[_types_pb2.Collection]
    next_page_token: str
    def __init__(self, artifacts: _Optional[_Iterable[_Union[_types_pb2.Collection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFilesRequest(_message.Message):
    __slots__ = ("ref", "page_size", "page_token", "path_prefix")
    REF_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ref: str
    page_size: int
    page_token: str
    path_prefix: str
    def __init__(self, ref: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., path_prefix: _Optional[str] = ...) -> None: ...

class ListFilesResponse(_message.Message):
    __slots__ = ("files", "next_page_token")
    FILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_types_pb2.FileEntry]
    next_page_token: str
    def __init__(self, files: _Optional[_Iterable[_Union[_types_pb2.FileEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpsertFilesRequest(_message.Message):
    __slots__ = ("project", "name", "type", "distributed_id", "files", "overwrite", "start_new")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTED_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    START_NEW_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    type: str
    distributed_id: str
    files: _containers.RepeatedCompositeFieldContainer[_types_pb2.FileEntry]
    overwrite: bool
    start_new: bool
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., distributed_id: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_types_pb2.FileEntry, _Mapping]]] = ..., overwrite: _Optional[bool] = ..., start_new: _Optional[bool] = ...) -> None: ...

class UpsertFilesResponse(_message.Message):
    __slots__ = ("draft_id", "file_count")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    file_count: int
    def __init__(self, draft_id: _Optional[str] = ..., file_count: _Optional[int] = ...) -> None: ...

class FinishDistributedRequest(_message.Message):
    __slots__ = ("project", "name", "distributed_id", "metadata_json", "description", "aliases", "tags", "label", "run_id")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTED_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    distributed_id: str
    metadata_json: str
    description: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    label: str
    run_id: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., distributed_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., description: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., label: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class FinishDistributedResponse(_message.Message):
    __slots__ = ("version", "created")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    created: bool
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class Draft(_message.Message):
    __slots__ = ("draft_id", "project", "name", "type", "distributed_id", "file_count", "created_at", "updated_at")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTED_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    project: str
    name: str
    type: str
    distributed_id: str
    file_count: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, draft_id: _Optional[str] = ..., project: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., distributed_id: _Optional[str] = ..., file_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDraftsRequest(_message.Message):
    __slots__ = ("project", "idle_seconds")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    IDLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    project: str
    idle_seconds: int
    def __init__(self, project: _Optional[str] = ..., idle_seconds: _Optional[int] = ...) -> None: ...

class ListDraftsResponse(_message.Message):
    __slots__ = ("drafts",)
    DRAFTS_FIELD_NUMBER: _ClassVar[int]
    drafts: _containers.RepeatedCompositeFieldContainer[Draft]
    def __init__(self, drafts: _Optional[_Iterable[_Union[Draft, _Mapping]]] = ...) -> None: ...

class AbortDraftRequest(_message.Message):
    __slots__ = ("draft_id",)
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    def __init__(self, draft_id: _Optional[str] = ...) -> None: ...

class AbortDraftResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveFilesRequest(_message.Message):
    __slots__ = ("draft_id", "paths", "prefixes")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    PREFIXES_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    prefixes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, draft_id: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ..., prefixes: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveFilesResponse(_message.Message):
    __slots__ = ("removed", "file_count")
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    removed: int
    file_count: int
    def __init__(self, removed: _Optional[int] = ..., file_count: _Optional[int] = ...) -> None: ...

class SetAliasesRequest(_message.Message):
    __slots__ = ("ref", "add", "remove")
    REF_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    ref: str
    add: _containers.RepeatedScalarFieldContainer[str]
    remove: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ref: _Optional[str] = ..., add: _Optional[_Iterable[str]] = ..., remove: _Optional[_Iterable[str]] = ...) -> None: ...

class SetAliasesResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ...) -> None: ...

class ListAliasesRequest(_message.Message):
    __slots__ = ("project", "name")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class AliasTarget(_message.Message):
    __slots__ = ("alias", "version_id", "version", "project", "name")
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    alias: str
    version_id: str
    version: int
    project: str
    name: str
    def __init__(self, alias: _Optional[str] = ..., version_id: _Optional[str] = ..., version: _Optional[int] = ..., project: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListAliasesResponse(_message.Message):
    __slots__ = ("aliases",)
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[AliasTarget]
    def __init__(self, aliases: _Optional[_Iterable[_Union[AliasTarget, _Mapping]]] = ...) -> None: ...

class DiffFilesRequest(_message.Message):
    __slots__ = ("ref_a", "ref_b", "page_size", "page_token")
    REF_A_FIELD_NUMBER: _ClassVar[int]
    REF_B_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ref_a: str
    ref_b: str
    page_size: int
    page_token: str
    def __init__(self, ref_a: _Optional[str] = ..., ref_b: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class FileChange(_message.Message):
    __slots__ = ("path", "kind", "before", "after")
    PATH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    path: str
    kind: FileChangeKind
    before: _types_pb2.FileEntry
    after: _types_pb2.FileEntry
    def __init__(self, path: _Optional[str] = ..., kind: _Optional[_Union[FileChangeKind, str]] = ..., before: _Optional[_Union[_types_pb2.FileEntry, _Mapping]] = ..., after: _Optional[_Union[_types_pb2.FileEntry, _Mapping]] = ...) -> None: ...

class DiffFilesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[FileChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[FileChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
