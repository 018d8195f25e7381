"""Bus structs of the catalogue (metadata after commit, search, registry links) and the parsing of
metadata keys and predicates, shared by the gateway (fail early) and ingest (never trusts it)."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.limits import check_text

from .api import VersionView

# Dotted paths into the metadata object ("metrics.accuracy"); keys outside this pattern can be
# stored but not searched or sorted by (they never reach SQL, not even as parameters).
METADATA_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,3}$")
PREDICATE_RE = re.compile(r"^\s*(?:metadata\.)?([^<>=!\s]+)\s*(>=|<=|!=|=|<|>)\s*(.*?)\s*$", re.DOTALL)
OPERATORS = (">", ">=", "<", "<=", "=", "!=")
MAX_FILTERS = 16


class UpdateVersion(msgspec.Struct, frozen=True):
    ref: str
    assign: dict[str, Any] = {}
    unset: list[str] = []
    add_tags: list[str] = []
    remove_tags: list[str] = []
    description: str | None = None


class Updated(msgspec.Struct, frozen=True):
    version: VersionView
    changed: bool


class Predicate(msgspec.Struct, frozen=True):
    """`key op value`: value is a number (compared numerically), a string (compared as text), or a
    boolean/null (only = and !=). A version without the key never matches."""

    key: str
    op: str
    value: float | int | str | bool | None


class SearchVersions(msgspec.Struct, frozen=True):
    project: str
    type: str = ""
    name_pattern: str = ""  # glob: * and ?
    tags: list[str] = []  # all of them
    alias: str = ""
    created_after: float | None = None
    created_before: float | None = None
    metadata: list[Predicate] = []
    run_id: str = ""
    order_by: str = "-created_at"  # created_at | version | metadata.<key>; "-" for descending
    page_size: int = 50
    page_token: str = ""
    # Instead of `project` (then ""): these projects, the caller's readable ones (None: every project).
    all_projects: bool = False
    projects: list[str] | None = None


class SearchPage(msgspec.Struct, frozen=True):
    versions: list[VersionView]
    next_page_token: str = ""


class LinkVersion(msgspec.Struct, frozen=True):
    ref: str
    target_project: str
    target_name: str
    aliases: list[str] = []


class Linked(msgspec.Struct, frozen=True):
    version: VersionView  # the source version the link names
    target_project: str
    target_name: str
    link_version: int
    aliases: list[str]
    created: bool


class ListLinks(msgspec.Struct, frozen=True):
    project: str
    name: str
    page_size: int = 100
    page_token: str = ""


class LinkView(msgspec.Struct, frozen=True):
    link_version: int
    version_id: str
    version: VersionView | None  # None: the linked version was deleted
    aliases: list[str]
    linked_at: float


class LinkPage(msgspec.Struct, frozen=True):
    links: list[LinkView]
    next_page_token: str = ""


class ListProjects(msgspec.Struct, frozen=True):
    projects: list[str] | None = None  # only these (the caller's readable ones); None: every project


class ProjectSummary(msgspec.Struct, frozen=True):
    name: str
    collections: int
    versions: int
    total_bytes: int


class ProjectList(msgspec.Struct, frozen=True):
    projects: list[ProjectSummary]


class UnlinkVersion(msgspec.Struct, frozen=True):
    project: str
    name: str
    selector: str  # "v2", "2", an alias of the collection of links, or "latest"


class Unlinked(msgspec.Struct, frozen=True):
    link_version: int
    version_id: str
    linked_from: str
    aliases_removed: list[str]


def check_metadata_key(key: str) -> str:
    if not isinstance(key, str) or not METADATA_KEY_RE.fullmatch(key):
        raise InvalidArgument(
            f"invalid metadata key {key!r}: use letters, digits, '_', '-' (starting with a letter or '_'),"
            " at most 4 parts joined by '.'"
        )
    return key


def parse_value(text: str) -> float | int | str | bool | None:
    """A JSON literal (number, "string", true, false, null) or else the bare text as a string."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        raise InvalidArgument(f"invalid metadata value {text!r}: not a finite number")
    if isinstance(value, (dict, list)):
        raise InvalidArgument(f"invalid metadata value {text!r}: compare with a number, a string or a boolean")
    return value


def parse_predicate(text: str) -> Predicate:
    """Parses "accuracy>0.9", "metadata.framework=sklearn", "f1 <= 0.5"."""
    m = PREDICATE_RE.fullmatch(text or "")
    if not m or not m.group(3):
        raise InvalidArgument(
            f"invalid metadata filter {text!r}: expected KEY OP VALUE with OP one of {' '.join(OPERATORS)}"
            " (e.g. accuracy>0.9)"
        )
    if m.group(3)[0] in "<>=!":  # "a>>1", "a=>1": a typo far more often than a string; quote it if meant
        raise InvalidArgument(f"invalid metadata filter {text!r}: doubled operator (quote a string value)")
    return check_predicate(Predicate(m.group(1), m.group(2), parse_value(m.group(3))))


def check_predicate(p: Predicate) -> Predicate:
    check_metadata_key(p.key)
    if p.op not in OPERATORS:
        raise InvalidArgument(f"invalid metadata filter operator {p.op!r}: use one of {' '.join(OPERATORS)}")
    if (isinstance(p.value, bool) or p.value is None) and p.op not in ("=", "!="):
        raise InvalidArgument(f"metadata filter on {p.key}: true, false and null only compare with = and !=")
    if isinstance(p.value, str):
        check_text(p.value, f"metadata filter on {p.key}: the value")  # 1024 characters, no NUL
    return p
