"""Points in time as users write them: "2d", "3h ago", "yesterday", "now", ISO 8601, epoch seconds,
or a datetime. Used by every --as-of and as_of= (get, download, lineage, retention)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from arkive_core.errors import InvalidArgument

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)(?:\s+ago)?$")
_UNIT = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 7 * 86400),
}
_WORDS = {"now": 0.0, "today": 0.0, "yesterday": 86400.0}
HINT = "use e.g. 2d, 12h, 30m, yesterday, or ISO 8601 such as 2026-11-23T17:00:00+00:00"


def as_of_seconds(value: datetime | float | int | str | None, now: float | None = None) -> float | None:
    """Epoch seconds of `value` (None stays None). Relative forms count back from `now` (default:
    the current time); an ISO time without a zone is local time, as Python reads it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise InvalidArgument(f"invalid time {value!r}: {HINT}")
    text = value.strip().lower()
    base = time.time() if now is None else now
    if text in _WORDS:
        return base - _WORDS[text]
    m = _RELATIVE.fullmatch(text)
    if m and m.group(2) in _UNIT:
        return base - float(m.group(1)) * _UNIT[m.group(2)]
    try:
        return datetime.fromisoformat(value.strip()).timestamp()
    except ValueError:
        raise InvalidArgument(f"invalid time {value!r}: {HINT}") from None


def as_of_datetime(value: datetime | float | int | str | None) -> datetime | None:
    seconds = as_of_seconds(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
