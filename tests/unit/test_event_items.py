"""eventlog.split_items: a command's items spread over events the log takes, in order."""

from __future__ import annotations

from arkive_common import eventlog
from arkive_common.events import encode_event
from arkive_ingest.handlers import files_added


def test_items_are_split_by_bytes_in_order() -> None:
    items = [f"{i:04d}" * 100 for i in range(100)]  # 400 bytes each
    parts = eventlog.split_items(items, len, budget=4000)
    assert [x for p in parts for x in p] == items and [len(p) for p in parts] == [10] * 10
    assert eventlog.split_items(["x" * 5000, "y"], len, budget=4000) == [["x" * 5000], ["y"]]
    assert eventlog.split_items([], len) == []


def test_the_files_of_one_large_call_become_events_the_log_takes() -> None:
    entries = [(f"dir/{'p' * 1000}/{i}", "sha256:" + "a" * 64, i) for i in range(5000)]  # ~5.4 MB of paths
    events = files_added("d1", entries)
    assert len(events) > 1 and [e for ev in events for e in ev.entries] == entries
    assert all(len(encode_event(ev)) <= eventlog.MAX_EVENT_BYTES for ev in events)
    assert files_added("d1", []) == []
