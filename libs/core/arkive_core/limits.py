"""Limits on what a client may send, checked at the edge (gateway, and the SDK before any upload).

Metadata (and a run's config) is a JSON object. Every value must survive each hop unchanged:
msgpack on the bus (integers fit in 64 bits), PostgreSQL jsonb in the read models (no NUL
character, no NaN or Infinity) and JSON back to the client. So the accepted values are:

- objects with string keys, arrays, strings, true/false/null;
- integers from -2**63 to 2**63-1 (int64); larger ones are refused, not rounded (send them as a
  string, or as a float if precision does not matter);
- finite floats (IEEE doubles); NaN, Infinity and numbers that overflow a double (1e400) are refused;
- nesting of at most MAX_METADATA_DEPTH objects/arrays;
- strings and keys without NUL (U+0000) and without unpaired surrogates (not UTF-8).

A refusal is an InvalidArgument naming the field and the place ("metadata.a.b[2]").
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import InvalidArgument

MAX_METADATA_BYTES = 64 * 1024  # metadata or a run config, as UTF-8 JSON text
MAX_METADATA_DEPTH = 32  # levels of objects/arrays, the top-level object included
MAX_DESCRIPTION_CHARS = 4096
MAX_TAGS = 64  # per version
MAX_ALIASES = 32  # per call
MAX_METADATA_KEYS_TO_UNSET = 1024
MAX_KEY_CHARS = 256  # a metadata key named in a request (unset, order_by, filters)
MAX_TEXT_CHARS = 1024  # short free text: a run's job type and group, a search pattern, a filter
# Files one AddFiles, CommitDraft or UpsertFiles call carries (gateway and ingest): each call is one
# ingest transaction that locks its blobs and writes every entry, so this bounds its work and locks.
MAX_FILES_PER_CALL = 5000
# Paths and folder prefixes one RemoveFiles call names: one DraftFilesRemoved event holds them all
# (500 paths of 1 KiB stay below eventlog.MAX_EVENT_BYTES), and each prefix is a scan of the draft.
MAX_REMOVALS_PER_CALL = 500
# One bus request or reply, which the bus splits into NATS messages (rpc_transfer.py): whoever
# assembles it holds it in memory, so a caller cannot make a replica hold more than this.
MAX_BUS_TRANSFER_BYTES = 64 * 1024 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _refuse_constant(name: str) -> float:
    raise _NonFinite(name)


class _NonFinite(ValueError):
    pass


def parse_json_object(text: str, field: str = "metadata") -> dict[str, Any]:
    """Parses and checks a metadata-like JSON object (see the module docstring); "" is {}."""
    if not text:
        return {}
    if len(text) > MAX_METADATA_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_METADATA_BYTES:
        raise InvalidArgument(f"{field} is larger than {MAX_METADATA_BYTES} bytes")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except _NonFinite as exc:
        raise InvalidArgument(f"{field} holds {exc}: only finite numbers are accepted") from None
    except RecursionError:
        raise InvalidArgument(f"{field} is nested deeper than {MAX_METADATA_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers of more than 4300 digits
        raise InvalidArgument(f"{field} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(f"{field} must be a JSON object")
    check_json_value(value, field)
    return value


def check_json_value(value: Any, where: str = "metadata", depth: int = 0) -> None:
    """Raises InvalidArgument unless value is one of the accepted metadata values (module docstring).

    Also used by the SDK on a dict before it is serialized, so the same rules apply on both sides.
    """
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidArgument(
                f"{where}: integer {_short(value)} is outside the int64 range [-2**63, 2**63-1]; send it as a string"
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{where}: {value} is not a finite number (NaN and Infinity are not accepted)")
    elif isinstance(value, dict | list | tuple):
        if depth >= MAX_METADATA_DEPTH:
            shown = where if len(where) <= 80 else where[:77] + "..."
            raise InvalidArgument(f"{shown}: nested deeper than {MAX_METADATA_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidArgument(f"{where}: key {key!r} is not a string")
                _check_text(key, f"{where} key {_short(key)!r}")
                check_json_value(item, f"{where}.{_short(key)}", depth + 1)
        else:
            for i, item in enumerate(value):
                check_json_value(item, f"{where}[{i}]", depth + 1)
    else:
        raise InvalidArgument(f"{where}: {type(value).__name__} is not a JSON value")


def _check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise InvalidArgument(f"{where}: NUL characters (U+0000) are not accepted")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument(f"{where}: unpaired surrogate, not valid UTF-8") from None


def shown(value: object, limit: int = 80) -> str:
    """repr(value) for an error message, cut to about `limit` characters: a refusal must not echo a
    megabyte back (a gRPC status message travels in a trailer of at most 16 KiB)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}...({len(str(value))} characters)"


def _short(value: object) -> str:
    text = str(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_text(value: str, field: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Free text stored as it is (descriptions, a run's group): bounded, no NUL, valid UTF-8."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit} characters ({len(value)})")
    _check_text(value, field)
    return value
