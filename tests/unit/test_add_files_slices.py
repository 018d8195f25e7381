"""The gateway forwards AddFiles entries to ingest in byte-bounded slices (one bus message each)."""

from __future__ import annotations

from arkive_gateway.artifacts import ENTRY_OVERHEAD, MESSAGE_ENTRY_BYTES, slices_by_bytes

DIGEST = "sha256:" + "ab" * 32


def test_short_paths_travel_in_one_message():
    entries = [(f"part-{i // 100:03d}/file-{i:05d}.bin", DIGEST, 16384) for i in range(2000)]
    assert slices_by_bytes(entries) == [entries]


def test_long_paths_are_split_in_order_below_the_byte_bound():
    entries = [("d/" + "x" * 1000 + f"{i:05d}", DIGEST, i) for i in range(5000)]
    parts = slices_by_bytes(entries)
    assert len(parts) > 1
    assert [e for p in parts for e in p] == entries  # order kept: a later entry of a path wins
    for p in parts:
        assert sum(len(e[0].encode()) + len(e[1]) + ENTRY_OVERHEAD for e in p) <= MESSAGE_ENTRY_BYTES


def test_no_entries_still_make_one_call():
    assert slices_by_bytes([]) == [[]]
