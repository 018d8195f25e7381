"""Bus requests and replies of reference artifacts (ingest) and register (hashing).

A reference entry points at data outside arkive's content index: an S3 object, an HTTP(S) URL or
a file on the client's disk. No bytes are copied; the entry records what the source was (ETag,
S3 version id, or sha256 for file://) so a download can refuse a source that changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.validation import check_digest, check_path, check_size

RefRow = tuple[str, str, str, str, bool, str, int]  # RefEntry.row(), as events hold it
T = TypeVar("T", "RefEntry", RefRow)


MAX_URI = 2048
SCHEMES = ("s3://", "http://", "https://", "file://", "arkive://")
# A DraftReferencesAdded event holds at most 200 entries and about 256 KiB of strings, so it stays
# below eventlog.MAX_EVENT_BYTES whatever the URIs' characters.
REFS_PER_EVENT = 200
BYTES_PER_EVENT = 256 * 1024
MAX_REFS_PER_CALL = 10_000


class RefEntry(msgspec.Struct, frozen=True):
    path: str
    uri: str
    etag: str = ""
    version_id: str = ""
    checksum: bool = True
    digest: str = ""  # "sha256:<hex>" for file:// and arkive:// (the blob's), else ""
    size: int = 0

    def row(self) -> RefRow:
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
        raise InvalidArgument(f"{e.path}: reference URI must be s3://, http(s)://, file:// or arkive://, not {e.uri!r}")
    if len(e.uri) > MAX_URI or any(ord(c) < 32 for c in e.uri):
        raise InvalidArgument(f"{e.path}: reference URI is longer than {MAX_URI} or has control characters")
    if len(e.etag) > 256 or len(e.version_id) > 256:
        raise InvalidArgument(f"{e.path}: ETag or version id too long")
    if e.digest:
        check_digest(e.digest)
    check_size(e.size)
    return e


def batches(entries: list[T]) -> Iterator[list[T]]:
    """Splits entries (RefEntry or its row tuple) into event-sized batches (see BYTES_PER_EVENT)."""
    batch: list[T] = []
    size = 0
    for e in entries:
        row = e.row() if isinstance(e, RefEntry) else e
        n = sum(len(str(v).encode()) for v in row) + 16
        if batch and (len(batch) >= REFS_PER_EVENT or size + n > BYTES_PER_EVENT):
            yield batch
            batch, size = [], 0
        batch.append(e)
        size += n
    if batch:
        yield batch
