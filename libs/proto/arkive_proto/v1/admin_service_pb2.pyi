from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RebuildProjectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProjectionRebuild(_message.Message):
    __slots__ = ("service", "events_replayed")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_REPLAYED_FIELD_NUMBER: _ClassVar[int]
    service: str
    events_replayed: int
    def __init__(self, service: _Optional[str] = ..., events_replayed: _Optional[int] = ...) -> None: ...

class RebuildProjectionsResponse(_message.Message):
    __slots__ = ("rebuilds",)
    REBUILDS_FIELD_NUMBER: _ClassVar[int]
    rebuilds: _containers.RepeatedCompositeFieldContainer[ProjectionRebuild]
    def __init__(self, rebuilds: _Optional[_Iterable[_Union[ProjectionRebuild, _Mapping]]] = ...) -> None: ...

class GetBlobStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetBlobStatsResponse(_message.Message):
    __slots__ = ("blobs_indexed", "logical_bytes", "physical_objects", "physical_bytes", "pack_objects", "pack_bytes", "bytes_received", "bytes_stored", "blobs_stored")
    BLOBS_INDEXED_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    PACK_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    PACK_BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_STORED_FIELD_NUMBER: _ClassVar[int]
    BLOBS_STORED_FIELD_NUMBER: _ClassVar[int]
    blobs_indexed: int
    logical_bytes: int
    physical_objects: int
    physical_bytes: int
    pack_objects: int
    pack_bytes: int
    bytes_received: int
    bytes_stored: int
    blobs_stored: int
    def __init__(self, blobs_indexed: _Optional[int] = ..., logical_bytes: _Optional[int] = ..., physical_objects: _Optional[int] = ..., physical_bytes: _Optional[int] = ..., pack_objects: _Optional[int] = ..., pack_bytes: _Optional[int] = ..., bytes_received: _Optional[int] = ..., bytes_stored: _Optional[int] = ..., blobs_stored: _Optional[int] = ...) -> None: ...
