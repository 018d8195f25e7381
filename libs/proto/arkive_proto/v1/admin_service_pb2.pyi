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
