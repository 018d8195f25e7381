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

class ScrubBlobsRequest(_message.Message):
    __slots__ = ("after_key", "max_bytes", "sample")
    AFTER_KEY_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    after_key: str
    max_bytes: int
    sample: int
    def __init__(self, after_key: _Optional[str] = ..., max_bytes: _Optional[int] = ..., sample: _Optional[int] = ...) -> None: ...

class CorruptBlob(_message.Message):
    __slots__ = ("digest", "key", "reason")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    digest: str
    key: str
    reason: str
    def __init__(self, digest: _Optional[str] = ..., key: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ScrubBlobsResponse(_message.Message):
    __slots__ = ("objects_checked", "blobs_checked", "bytes_read", "corrupt", "next_key")
    OBJECTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    BLOBS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    BYTES_READ_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_FIELD_NUMBER: _ClassVar[int]
    NEXT_KEY_FIELD_NUMBER: _ClassVar[int]
    objects_checked: int
    blobs_checked: int
    bytes_read: int
    corrupt: _containers.RepeatedCompositeFieldContainer[CorruptBlob]
    next_key: str
    def __init__(self, objects_checked: _Optional[int] = ..., blobs_checked: _Optional[int] = ..., bytes_read: _Optional[int] = ..., corrupt: _Optional[_Iterable[_Union[CorruptBlob, _Mapping]]] = ..., next_key: _Optional[str] = ...) -> None: ...

class ReportCorruptBlobsRequest(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digests: _Optional[_Iterable[str]] = ...) -> None: ...

class ReportCorruptBlobsResponse(_message.Message):
    __slots__ = ("blobs_checked", "corrupt")
    BLOBS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_FIELD_NUMBER: _ClassVar[int]
    blobs_checked: int
    corrupt: _containers.RepeatedCompositeFieldContainer[CorruptBlob]
    def __init__(self, blobs_checked: _Optional[int] = ..., corrupt: _Optional[_Iterable[_Union[CorruptBlob, _Mapping]]] = ...) -> None: ...
