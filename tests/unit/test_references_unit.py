"""Reference entries without servers: validation, event batching (every event fits a bus message)
and the manifest token (a changed ETag is new content)."""

from __future__ import annotations

import pytest
from arkive_core.errors import InvalidArgument

from arkive_common import api_refs as ar
from arkive_common.events import DraftReferencesAdded, encode_event
from arkive_ingest.references import token


def test_batches_keep_every_event_below_one_mebibyte() -> None:
    # Worst case: the longest path, URI, ETag and version id, in multi-byte characters.
    long = ar.RefEntry(
        "/".join(["é" * 120] * 4), "s3://b/" + "é" * 2000, "e" * 256, "v" * 256, True, "sha256:" + "0" * 64, 1 << 40
    )
    entries = [ar.check_entry(long)] * 1000
    batches = list(ar.batches(entries))
    assert sum(map(len, batches)) == 1000
    for batch in batches:
        event = DraftReferencesAdded(draft_id="d" * 32, entries=[e.row() for e in batch], added_at=1.0)
        assert len(encode_event(event)) < 512 * 1024
    small = [ar.RefEntry(f"p{i}", f"s3://b/k{i}") for i in range(450)]
    assert [len(b) for b in ar.batches(small)] == [200, 200, 50]


@pytest.mark.parametrize(
    "entry",
    [
        ar.RefEntry("../x", "s3://b/k"),
        ar.RefEntry("x", "ftp://host/x"),
        ar.RefEntry("x", "s3://b/" + "k" * 3000),
        ar.RefEntry("x", "http://h/\nx"),
        ar.RefEntry("x", "s3://b/k", digest="md5:abc"),
        ar.RefEntry("x", "s3://b/k", size=-1),
    ],
)
def test_bad_entries_are_refused(entry: ar.RefEntry) -> None:
    with pytest.raises(InvalidArgument):
        ar.check_entry(entry)


def test_manifest_token_changes_with_the_source() -> None:
    base = token("s3://b/k", '"e1"', "v1", True, "")
    assert base == token("s3://b/k", '"e1"', "v1", True, "")
    assert base != token("s3://b/k", '"e2"', "v1", True, "")
    assert base != token("s3://b/k", '"e1"', "v2", True, "")
    assert base != token("s3://b/k", '"e1"', "v1", False, "")
    assert base != token("s3://b/other", '"e1"', "v1", True, "")
