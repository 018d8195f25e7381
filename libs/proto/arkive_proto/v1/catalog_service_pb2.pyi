import datetime

from arkive_proto.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpdateVersionRequest(_message.Message):
    __slots__ = ("ref", "set_metadata_json", "unset_metadata_keys", "add_tags", "remove_tags", "description")
    REF_FIELD_NUMBER: _ClassVar[int]
    SET_METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    UNSET_METADATA_KEYS_FIELD_NUMBER: _ClassVar[int]
    ADD_TAGS_FIELD_NUMBER: _ClassVar[int]
    REMOVE_TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ref: str
    set_metadata_json: str
    unset_metadata_keys: _containers.RepeatedScalarFieldContainer[str]
    add_tags: _containers.RepeatedScalarFieldContainer[str]
    remove_tags: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, ref: _Optional[str] = ..., set_metadata_json: _Optional[str] = ..., unset_metadata_keys: _Optional[_Iterable[str]] = ..., add_tags: _Optional[_Iterable[str]] = ..., remove_tags: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateVersionResponse(_message.Message):
    __slots__ = ("version", "changed")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    changed: bool
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...

class SearchVersionsRequest(_message.Message):
    __slots__ = ("project", "type", "name_pattern", "tags", "alias", "created_after", "created_before", "metadata_filters", "run_id", "order_by", "page_size", "page_token", "all_projects")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_PATTERN_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FILTERS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ALL_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    project: str
    type: str
    name_pattern: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    alias: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    metadata_filters: _containers.RepeatedScalarFieldContainer[str]
    run_id: str
    order_by: str
    page_size: int
    page_token: str
    all_projects: bool
    def __init__(self, project: _Optional[str] = ..., type: _Optional[str] = ..., name_pattern: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., alias: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata_filters: _Optional[_Iterable[str]] = ..., run_id: _Optional[str] = ..., order_by: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., all_projects: _Optional[bool] = ...) -> None: ...

class SearchVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_types_pb2.Version]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[_types_pb2.Version, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LinkVersionRequest(_message.Message):
    __slots__ = ("ref", "target_project", "target_name", "aliases")
    REF_FIELD_NUMBER: _ClassVar[int]
    TARGET_PROJECT_FIELD_NUMBER: _ClassVar[int]
    TARGET_NAME_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    ref: str
    target_project: str
    target_name: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ref: _Optional[str] = ..., target_project: _Optional[str] = ..., target_name: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class LinkVersionResponse(_message.Message):
    __slots__ = ("version", "target_project", "target_name", "link_version", "aliases", "created")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TARGET_PROJECT_FIELD_NUMBER: _ClassVar[int]
    TARGET_NAME_FIELD_NUMBER: _ClassVar[int]
    LINK_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    target_project: str
    target_name: str
    link_version: int
    aliases: _containers.RepeatedScalarFieldContainer[str]
    created: bool
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., target_project: _Optional[str] = ..., target_name: _Optional[str] = ..., link_version: _Optional[int] = ..., aliases: _Optional[_Iterable[str]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListLinksRequest(_message.Message):
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

class Link(_message.Message):
    __slots__ = ("link_version", "version", "aliases", "linked_at", "version_id")
    LINK_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    LINKED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    link_version: int
    version: _types_pb2.Version
    aliases: _containers.RepeatedScalarFieldContainer[str]
    linked_at: _timestamp_pb2.Timestamp
    version_id: str
    def __init__(self, link_version: _Optional[int] = ..., version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., aliases: _Optional[_Iterable[str]] = ..., linked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version_id: _Optional[str] = ...) -> None: ...

class ListLinksResponse(_message.Message):
    __slots__ = ("links", "next_page_token")
    LINKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedCompositeFieldContainer[Link]
    next_page_token: str
    def __init__(self, links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UnlinkVersionRequest(_message.Message):
    __slots__ = ("project", "name", "selector")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    selector: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., selector: _Optional[str] = ...) -> None: ...

class UnlinkVersionResponse(_message.Message):
    __slots__ = ("link_version", "version_id", "linked_from", "aliases_removed")
    LINK_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    LINKED_FROM_FIELD_NUMBER: _ClassVar[int]
    ALIASES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    link_version: int
    version_id: str
    linked_from: str
    aliases_removed: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, link_version: _Optional[int] = ..., version_id: _Optional[str] = ..., linked_from: _Optional[str] = ..., aliases_removed: _Optional[_Iterable[str]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProjectSummary(_message.Message):
    __slots__ = ("name", "collections", "versions", "total_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    collections: int
    versions: int
    total_bytes: int
    def __init__(self, name: _Optional[str] = ..., collections: _Optional[int] = ..., versions: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects",)
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[ProjectSummary]
    def __init__(self, projects: _Optional[_Iterable[_Union[ProjectSummary, _Mapping]]] = ...) -> None: ...
