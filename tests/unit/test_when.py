"""Times as users write them for --as-of / as_of=."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arkive_core.errors import InvalidArgument

from arkive._when import as_of_seconds

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("2d", 2 * 86400),
        ("12h", 12 * 3600),
        ("30m", 1800),
        ("45s", 45),
        ("1w", 7 * 86400),
        ("3 hours ago", 3 * 3600),
        ("2 days", 2 * 86400),
        ("1.5h", 5400),
        ("yesterday", 86400),
        ("now", 0),
    ],
)
def test_relative_times_count_back_from_now(text: str, back: float) -> None:
    assert as_of_seconds(text, now=NOW) == NOW - back


def test_absolute_times_and_other_types() -> None:
    assert as_of_seconds("2026-11-23T17:00:00+00:00") == datetime(2026, 11, 23, 17, tzinfo=UTC).timestamp()
    assert as_of_seconds(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert as_of_seconds(12.5) == 12.5
    assert as_of_seconds(None) is None and as_of_seconds("") is None


@pytest.mark.parametrize("text", ["2 months", "soon", "12x", "2026-13-01", "-1d"])
def test_unknown_forms_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(InvalidArgument, match="yesterday"):
        as_of_seconds(text, now=NOW)
