"""Validation of everything a client names: projects, artifact names, aliases, tags, paths, digests, metadata.

Shared by the SDK (to fail early) and the services (which never trust the SDK did).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import InvalidArgument
from .limits import (  # noqa: F401  (re-exported: callers import the limits from here)
    MAX_ALIASES,
    MAX_DESCRIPTION_CHARS,
    MAX_METADATA_BYTES,
    MAX_TAGS,
    check_text,
    parse_json_object,
    shown,
)

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
VERSION_SELECTOR_RE = re.compile(r"^v(0|[1-9][0-9]{0,17})$")
MAX_PATH_BYTES = 1024
MAX_COMPONENT_BYTES = 255


def check_name(value: str, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value) or value.endswith("."):
        raise InvalidArgument(
            f"invalid {what} {shown(value)}: use 1-128 letters, digits, '_', '.', '-', starting with a letter or digit"
        )
    return value


def check_type(value: str) -> str:
    if not isinstance(value, str) or not TYPE_RE.fullmatch(value):
        raise InvalidArgument(f"invalid type {shown(value)}: use 1-64 letters, digits, '_', '.', '-'")
    return value


def check_alias(value: str) -> str:
    check_name(value, "alias")
    if VERSION_SELECTOR_RE.fullmatch(value):
        raise InvalidArgument(f"invalid alias {shown(value)}: 'v<number>' is reserved for version numbers")
    return value


def check_label(value: str) -> str:
    check_name(value, "version label")
    if VERSION_SELECTOR_RE.fullmatch(value) or value == "latest":
        raise InvalidArgument(f"invalid version label {shown(value)}: 'latest' and 'v<number>' are reserved")
    return value


def check_tag(value: str) -> str:
    return check_name(value, "tag")


def check_list(values: list[str], check, what: str, limit: int) -> list[str]:
    if len(values) > limit:
        raise InvalidArgument(f"too many {what}: {len(values)} > {limit}")
    out: list[str] = []
    for v in values:
        check(v)
        if v not in out:
            out.append(v)
    return out


def check_digest(value: str) -> str:
    if not isinstance(value, str) or not DIGEST_RE.fullmatch(value):
        raise InvalidArgument(f"invalid digest {shown(value)}: expected 'sha256:' and 64 lowercase hex digits")
    return value


def check_size(value: int) -> int:
    if not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"invalid size {shown(value)}: must be a non-negative integer")
    return value


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE_RE = re.compile(r"[A-Za-z]:")


def normalize_path(value: str) -> str:
    """Returns the canonical form of a path inside an artifact, or raises InvalidArgument.

    Accepted: relative POSIX paths of non-empty components. Refused: absolute paths, '..' and '.'
    components, empty components ('a//b', trailing '/'), backslashes (Windows separators), drive
    letters, NUL and other control characters, over-long paths. Unicode is normalized to NFC so
    that the same name typed on macOS and Linux is one entry.

    It runs once per file on the client and again on the server, so the common case (a valid
    path) takes a few C-level passes and the error text is only built for a refusal.
    """
    if not isinstance(value, str) or not value:
        raise InvalidArgument("invalid path: empty")
    path = value if value.isascii() else unicodedata.normalize("NFC", value)
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: a file name that was not valid UTF-8 on disk
        raise _bad_path(path, "not valid UTF-8") from None
    if _CONTROL_RE.search(path):
        raise _bad_path(path, "control characters are not allowed")
    if "\\" in path:
        raise _bad_path(path, "backslashes are not allowed, use '/'")
    if path.startswith("/") or _DRIVE_RE.match(path):
        raise _bad_path(path, "must be relative")
    if size > MAX_PATH_BYTES:
        raise _bad_path(path, f"longer than {MAX_PATH_BYTES} bytes")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise _bad_path(path, "empty, '.' or '..' components are not allowed")
        if len(part) > MAX_COMPONENT_BYTES // 4 and len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise _bad_path(path, f"a component is longer than {MAX_COMPONENT_BYTES} bytes")
    return path


def _bad_path(path: str, why: str) -> InvalidArgument:
    shown = path.encode("unicode_escape", "backslashreplace").decode("ascii")[:200]
    return InvalidArgument(f"invalid path {shown!r}: {why}")


def file_folder_conflicts(paths: list[str]) -> list[tuple[str, str]]:
    """Pairs (file, path below it): a version cannot hold both "a" as a file and "a/b"."""
    present = set(paths)
    conflicts = []
    for path in paths:
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in present:
                conflicts.append((parent, path))
    return conflicts


def check_path(value: str) -> str:
    """Like normalize_path, but a path must already be in canonical form (server side)."""
    norm = normalize_path(value)
    if norm != value:
        raise InvalidArgument(f"invalid path {shown(value)}: not in normalized (NFC) form")
    return value


def parse_metadata(text: str, field: str = "metadata") -> dict[str, Any]:
    """Parses a metadata JSON object: at most MAX_METADATA_BYTES, values as limits.py describes."""
    return parse_json_object(text, field)


def check_description(value: str) -> str:
    return check_text(value, "description", MAX_DESCRIPTION_CHARS)


def check_annotations(description: str, aliases: list[str], tags: list[str], label: str = "") -> None:
    """What a commit carries besides metadata, checked at the edge before anything is written."""
    check_description(description)
    check_list(aliases, check_alias, "aliases", MAX_ALIASES)
    check_list(tags, check_tag, "tags", MAX_TAGS)
    if label:
        check_label(label)
