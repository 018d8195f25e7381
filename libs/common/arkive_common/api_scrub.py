"""Bus contract of blob scrubbing (hashing owns it): re-read stored bytes and drop what is corrupt
from the content index (events.BlobsCorrupted)."""

from __future__ import annotations

import msgspec

MAX_VERIFY_DIGESTS = 100
"""Digests one VerifyBlobs call may name: each costs a read of its bytes."""


class ScrubPage(msgspec.Struct, frozen=True):
    """Verify the objects whose keys sort after `after_key`, stopping once about `max_bytes` were
    read (at least one object). With `sample` > 0, verify that many objects picked at random instead."""

    after_key: str = ""
    max_bytes: int = 256 * 1024 * 1024
    sample: int = 0


class CorruptBlob(msgspec.Struct, frozen=True):
    digest: str
    key: str
    reason: str


class ScrubReport(msgspec.Struct, frozen=True):
    objects_checked: int
    blobs_checked: int
    bytes_read: int
    corrupt: list[CorruptBlob]
    next_key: str = ""  # "" when the whole index was covered (or for a sample)


class VerifyBlobs(msgspec.Struct, frozen=True):
    """Re-read these blobs on the server (a client reported a download that did not verify)."""

    digests: list[str]
    found_by: str = "download"
