from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RebuildProjectionsRequest(_message.Message):
    __slots__ = ("confirm",)
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    confirm: bool
    def __init__(self, confirm: _Optional[bool] = ...) -> None: ...

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

class ListDeadLettersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("id", "consumer", "event_id", "event_type", "subject", "stream_seq", "data_size", "error", "deliveries", "first_failure", "last_failure")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STREAM_SEQ_FIELD_NUMBER: _ClassVar[int]
    DATA_SIZE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    id: int
    consumer: str
    event_id: str
    event_type: str
    subject: str
    stream_seq: int
    data_size: int
    error: str
    deliveries: int
    first_failure: float
    last_failure: float
    def __init__(self, id: _Optional[int] = ..., consumer: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., subject: _Optional[str] = ..., stream_seq: _Optional[int] = ..., data_size: _Optional[int] = ..., error: _Optional[str] = ..., deliveries: _Optional[int] = ..., first_failure: _Optional[float] = ..., last_failure: _Optional[float] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters",)
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ...) -> None: ...

class RetryDeadLetterRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class RetryDeadLetterResponse(_message.Message):
    __slots__ = ("consumer", "event_id", "applied")
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    event_id: str
    applied: bool
    def __init__(self, consumer: _Optional[str] = ..., event_id: _Optional[str] = ..., applied: _Optional[bool] = ...) -> None: ...

class CheckConsumersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConsumerCheck(_message.Message):
    __slots__ = ("consumer", "position", "expected", "processed", "redriven", "still_missing", "dead_letters")
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    REDRIVEN_FIELD_NUMBER: _ClassVar[int]
    STILL_MISSING_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    position: int
    expected: int
    processed: int
    redriven: int
    still_missing: int
    dead_letters: int
    def __init__(self, consumer: _Optional[str] = ..., position: _Optional[int] = ..., expected: _Optional[int] = ..., processed: _Optional[int] = ..., redriven: _Optional[int] = ..., still_missing: _Optional[int] = ..., dead_letters: _Optional[int] = ...) -> None: ...

class CheckConsumersResponse(_message.Message):
    __slots__ = ("consumers",)
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    consumers: _containers.RepeatedCompositeFieldContainer[ConsumerCheck]
    def __init__(self, consumers: _Optional[_Iterable[_Union[ConsumerCheck, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ("wait_seconds",)
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    wait_seconds: float
    def __init__(self, wait_seconds: _Optional[float] = ...) -> None: ...

class ConsumerStatus(_message.Message):
    __slots__ = ("consumer", "pending", "ack_pending", "dead_letters")
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    ACK_PENDING_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    pending: int
    ack_pending: int
    dead_letters: int
    def __init__(self, consumer: _Optional[str] = ..., pending: _Optional[int] = ..., ack_pending: _Optional[int] = ..., dead_letters: _Optional[int] = ...) -> None: ...

class ProcessStatus(_message.Message):
    __slots__ = ("service", "instance", "version", "ready", "uptime_seconds", "outbox_pending", "outbox_oldest_age_seconds", "consumers")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_PENDING_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_OLDEST_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    service: str
    instance: str
    version: str
    ready: bool
    uptime_seconds: float
    outbox_pending: int
    outbox_oldest_age_seconds: float
    consumers: _containers.RepeatedCompositeFieldContainer[ConsumerStatus]
    def __init__(self, service: _Optional[str] = ..., instance: _Optional[str] = ..., version: _Optional[str] = ..., ready: _Optional[bool] = ..., uptime_seconds: _Optional[float] = ..., outbox_pending: _Optional[int] = ..., outbox_oldest_age_seconds: _Optional[float] = ..., consumers: _Optional[_Iterable[_Union[ConsumerStatus, _Mapping]]] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("processes",)
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedCompositeFieldContainer[ProcessStatus]
    def __init__(self, processes: _Optional[_Iterable[_Union[ProcessStatus, _Mapping]]] = ...) -> None: ...
