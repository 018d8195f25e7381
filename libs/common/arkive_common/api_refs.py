"""Bus requests and replies of reference artifacts (ingest) and register (hashing).

A reference entry points at data outside arkive's content index: an S3 object, an HTTP(S) URL or
a file on the client's disk. No bytes are copied; the entry records what the source was (ETag,
S3 version id, or sha256 for file://) so a download can refuse a source that changed.
"""

from __future__ import annotations

import msgspec

from .errors import InvalidArgument
from .validation import check_digest, check_path, check_size

ADD_REFERENCES = "add_references"  # ingest
GET_REFERENCE = "get_reference"  # ingest
REGISTER_OBJECT = "register_object"  # hashing: index a digest at an existing object key

MAX_URI = 2048
SCHEMES = ("s3://", "http://", "https://", "file://")
# Entries per DraftReferencesAdded event: 200 URIs of <= 2 KiB keep it far below 1 MiB.
REFS_PER_EVENT = 200
MAX_REFS_PER_CALL = 10_000


class RefEntry(msgspec.Struct, frozen=True):
    path: str
    uri: str
    etag: str = ""
    version_id: str = ""
    checksum: bool = True
    digest: str = ""  # "sha256:<hex>" for file://, else ""
    size: int = 0

    def row(self) -> tuple[str, str, str, str, bool, str, int]:
        return (self.path, self.uri, self.etag, self.version_id, self.checksum, self.digest, self.size)


class AddReferences(msgspec.Struct, frozen=True):
    draft_id: str
    entries: list[RefEntry]


class GetReference(msgspec.Struct, frozen=True):
    ref: str
    path: str


def check_entry(e: RefEntry) -> RefEntry:
    check_path(e.path)
    if not isinstance(e.uri, str) or not e.uri.startswith(SCHEMES):
        raise InvalidArgument(f"{e.path}: reference URI must be s3://, http(s):// or file://, not {e.uri!r}")
    if len(e.uri) > MAX_URI or any(ord(c) < 32 for c in e.uri):
        raise InvalidArgument(f"{e.path}: reference URI is longer than {MAX_URI} or has control characters")
    if len(e.etag) > 1024 or len(e.version_id) > 1024:
        raise InvalidArgument(f"{e.path}: ETag or version id too long")
    if e.digest:
        check_digest(e.digest)
    check_size(e.size)
    return e
