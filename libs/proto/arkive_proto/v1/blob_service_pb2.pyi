from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FindMissingBlobsRequest(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digests: _Optional[_Iterable[str]] = ...) -> None: ...

class FindMissingBlobsResponse(_message.Message):
    __slots__ = ("missing",)
    MISSING_FIELD_NUMBER: _ClassVar[int]
    missing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, missing: _Optional[_Iterable[str]] = ...) -> None: ...

class UploadBlobHeader(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class UploadBlobRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadBlobHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadBlobHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadBlobResponse(_message.Message):
    __slots__ = ("digest", "size", "already_present")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    already_present: bool
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., already_present: _Optional[bool] = ...) -> None: ...

class DownloadBlobRequest(_message.Message):
    __slots__ = ("digest", "offset")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    digest: str
    offset: int
    def __init__(self, digest: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadBlobResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class UploadBlobsRequest(_message.Message):
    __slots__ = ("header", "chunk", "blobs")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    header: UploadBlobHeader
    chunk: bytes
    blobs: InlineBlobs
    def __init__(self, header: _Optional[_Union[UploadBlobHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., blobs: _Optional[_Union[InlineBlobs, _Mapping]] = ...) -> None: ...

class InlineBlobs(_message.Message):
    __slots__ = ("blobs",)
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    blobs: _containers.RepeatedCompositeFieldContainer[InlineBlob]
    def __init__(self, blobs: _Optional[_Iterable[_Union[InlineBlob, _Mapping]]] = ...) -> None: ...

class InlineBlob(_message.Message):
    __slots__ = ("digest", "size", "data")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    data: bytes
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadBlobsResponse(_message.Message):
    __slots__ = ("stored", "already_present", "bytes_stored")
    STORED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_STORED_FIELD_NUMBER: _ClassVar[int]
    stored: int
    already_present: int
    bytes_stored: int
    def __init__(self, stored: _Optional[int] = ..., already_present: _Optional[int] = ..., bytes_stored: _Optional[int] = ...) -> None: ...

class DownloadBlobsRequest(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digests: _Optional[_Iterable[str]] = ...) -> None: ...

class DownloadBlobsResponse(_message.Message):
    __slots__ = ("header", "chunk", "blobs")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    header: UploadBlobHeader
    chunk: bytes
    blobs: InlineBlobs
    def __init__(self, header: _Optional[_Union[UploadBlobHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., blobs: _Optional[_Union[InlineBlobs, _Mapping]] = ...) -> None: ...

class ComposeBlobRequest(_message.Message):
    __slots__ = ("digest", "size", "chunks")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    chunks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., chunks: _Optional[_Iterable[str]] = ...) -> None: ...

class ComposeBlobResponse(_message.Message):
    __slots__ = ("digest", "size", "already_present")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    already_present: bool
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., already_present: _Optional[bool] = ...) -> None: ...

class StartDirectUploadRequest(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class StartDirectUploadResponse(_message.Message):
    __slots__ = ("already_present", "upload_id", "url", "headers", "expires_in_seconds")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    already_present: bool
    upload_id: str
    url: str
    headers: _containers.ScalarMap[str, str]
    expires_in_seconds: int
    def __init__(self, already_present: _Optional[bool] = ..., upload_id: _Optional[str] = ..., url: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class FinishDirectUploadRequest(_message.Message):
    __slots__ = ("digest", "size", "upload_id")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    upload_id: str
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., upload_id: _Optional[str] = ...) -> None: ...

class FinishDirectUploadResponse(_message.Message):
    __slots__ = ("digest", "size", "already_present")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    already_present: bool
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., already_present: _Optional[bool] = ...) -> None: ...

class GetDownloadUrlsRequest(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, digests: _Optional[_Iterable[str]] = ...) -> None: ...

class GetDownloadUrlsResponse(_message.Message):
    __slots__ = ("urls", "expires_in_seconds")
    URLS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    urls: _containers.RepeatedCompositeFieldContainer[DownloadUrl]
    expires_in_seconds: int
    def __init__(self, urls: _Optional[_Iterable[_Union[DownloadUrl, _Mapping]]] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class DownloadUrl(_message.Message):
    __slots__ = ("digest", "url", "offset", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    url: str
    offset: int
    size: int
    def __init__(self, digest: _Optional[str] = ..., url: _Optional[str] = ..., offset: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...
