from arkive_proto.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReferenceSpec(_message.Message):
    __slots__ = ("uri", "name", "checksum", "max_objects", "digest", "size")
    URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    MAX_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    uri: str
    name: str
    checksum: bool
    max_objects: int
    digest: str
    size: int
    def __init__(self, uri: _Optional[str] = ..., name: _Optional[str] = ..., checksum: _Optional[bool] = ..., max_objects: _Optional[int] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class AddReferencesRequest(_message.Message):
    __slots__ = ("draft_id", "references")
    DRAFT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    draft_id: str
    references: _containers.RepeatedCompositeFieldContainer[ReferenceSpec]
    def __init__(self, draft_id: _Optional[str] = ..., references: _Optional[_Iterable[_Union[ReferenceSpec, _Mapping]]] = ...) -> None: ...

class AddReferencesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_types_pb2.FileEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[_types_pb2.FileEntry, _Mapping]]] = ...) -> None: ...

class DownloadReferenceRequest(_message.Message):
    __slots__ = ("ref", "path", "offset")
    REF_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    ref: str
    path: str
    offset: int
    def __init__(self, ref: _Optional[str] = ..., path: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadReferenceResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class RegisterObjectsRequest(_message.Message):
    __slots__ = ("project", "name", "type", "uri", "max_objects", "metadata_json", "description", "aliases", "tags")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    MAX_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    type: str
    uri: str
    max_objects: int
    metadata_json: str
    description: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., uri: _Optional[str] = ..., max_objects: _Optional[int] = ..., metadata_json: _Optional[str] = ..., description: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterObjectsResponse(_message.Message):
    __slots__ = ("version", "created", "objects_registered")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    version: _types_pb2.Version
    created: bool
    objects_registered: int
    def __init__(self, version: _Optional[_Union[_types_pb2.Version, _Mapping]] = ..., created: _Optional[bool] = ..., objects_registered: _Optional[int] = ...) -> None: ...
