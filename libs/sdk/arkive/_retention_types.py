"""Retention's plain values: durations, results and policies (no gRPC), so that the CLI can build its
parser and print results without importing the client (see retention.py for the methods)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from arkive_core.errors import InvalidArgument

INHERIT = "inherit"
"""set_ttl(ref, INHERIT): the version follows its project's default TTL again."""

DEFAULT_GC_GRACE = timedelta(days=1)
GC_TIMEOUT = 3600.0  # a sweep over many blobs takes a while
REPORT_TIMEOUT = 600.0  # the storage report runs a GC dry run

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """ "30d", "12h", "15m", "90s", "2w" or a combination such as "1d12h" (whole units, > 0)."""
    s = text.strip().lower()
    if not s or _DURATION.sub("", s):
        raise InvalidArgument(f"invalid duration {text!r}: use e.g. 30d, 12h, 15m or 90s")
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(s))
    if seconds <= 0:
        raise InvalidArgument(f"invalid duration {text!r}: must be more than zero")
    return timedelta(seconds=seconds)


def format_duration(seconds: float) -> str:
    """The shortest exact "30d" / "1d12h" / "90s" form of a number of seconds."""
    s = int(seconds)
    if s <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        n, s = divmod(s, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def _whole_seconds(ttl: object, what: str) -> int:  # anything: a caller's wrong type is refused here
    if not isinstance(ttl, timedelta):
        raise InvalidArgument(f"{what} must be a timedelta, got {type(ttl).__name__}")
    if ttl.total_seconds() <= 0:
        raise InvalidArgument(f"{what} must be positive (use None for no expiry)")
    return math.ceil(ttl.total_seconds())


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _ToDict:
    __slots__ = ()

    def to_dict(self: DataclassInstance) -> dict[str, Any]:  # the dataclasses below
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class VersionChange(_ToDict):
    version_id: str
    version: int


@dataclass(frozen=True, slots=True)
class SkippedVersion(_ToDict):
    version_id: str
    version: int
    reason: str  # "already deleted", "held by alias production", ...


@dataclass(frozen=True, slots=True)
class DeleteResult(_ToDict):
    """What a delete changed: the versions deleted and those left alone (with why)."""

    deleted: tuple[VersionChange, ...]
    skipped: tuple[SkippedVersion, ...] = ()


@dataclass(frozen=True, slots=True)
class UndeleteResult(_ToDict):
    undeleted: tuple[VersionChange, ...]


@dataclass(frozen=True, slots=True)
class RetentionPolicy(_ToDict):
    """Keep the newest `keep_last` and/or the best `keep_best` by `metric` (mode "max" or "min") of each
    collection; with `max_age`, only versions older than that are deleted (alone: every older one is)."""

    project: str
    name: str
    type: str = ""  # only collections of this type ("" = every type)
    name_pattern: str = ""  # fnmatch pattern on collection names ("" = every name)
    keep_last: int = 0
    keep_best: int = 0
    metric: str = ""
    mode: str = "max"
    max_age: timedelta | None = None
    manual: bool = False  # applied only by retention_apply, never by the server's schedule

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "max_age"}
        d["max_age_seconds"] = int(self.max_age.total_seconds()) if self.max_age else 0
        return d


@dataclass(frozen=True, slots=True)
class PolicyList(_ToDict):
    project: str
    policies: tuple[RetentionPolicy, ...]
    default_ttls: dict[str, timedelta]  # type ("" = every type) -> default TTL

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "policies": [p.to_dict() for p in self.policies],
            "default_ttls": {t: int(d.total_seconds()) for t, d in self.default_ttls.items()},
        }


@dataclass(frozen=True, slots=True)
class PlannedDeletion(_ToDict):
    project: str
    name: str
    version_id: str
    version: int
    reasons: tuple[str, ...]  # "policy last2: not among the 2 newest", "ttl 1h passed", ...


@dataclass(frozen=True, slots=True)
class ProtectedVersion(_ToDict):
    """A version a rule would delete, kept by `aliases`: its own ("production") or a registry
    link's ("registry/zoo:production")."""

    project: str
    name: str
    version_id: str
    version: int
    reasons: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RetentionPlan(_ToDict):
    """A dry run. `deletions` lists at most the requested limit; `total_deletions` counts them all."""

    project: str
    deletions: tuple[PlannedDeletion, ...]
    protected_versions: int  # a rule would delete them, but an alias other than latest protects them
    total_deletions: int
    protected: tuple[ProtectedVersion, ...] = ()  # which, and by what (as many as deletions are listed)


@dataclass(frozen=True, slots=True)
class ApplyResult(_ToDict):
    project: str
    deleted: int
    skipped: tuple[SkippedVersion, ...]


@dataclass(frozen=True, slots=True)
class GcResult(_ToDict):
    sweep_id: str
    dry_run: bool
    blobs_total: int
    bytes_total: int
    blobs_unreferenced: int
    blobs_deleted: int
    bytes_freed: int  # with dry_run: what would be freed
    staging_deleted: int
    pending_purged: int
    seconds: float
    packs_repacked: int = 0
    blobs_repacked: int = 0
    bytes_repacked: int = 0


@dataclass(frozen=True, slots=True)
class CollectionStorage(_ToDict):
    project: str
    name: str
    versions: int
    deleted_versions: int
    logical_bytes: int  # sum of the live versions' sizes
    referenced_bytes: int  # distinct blobs the live versions reference


@dataclass(frozen=True, slots=True)
class StorageReport(_ToDict):
    project: str  # "" = every project
    blobs_stored: int
    bytes_stored: int
    collections: tuple[CollectionStorage, ...]
    reclaimable_blobs: int  # what a GC with the default grace would free now
    reclaimable_bytes: int
