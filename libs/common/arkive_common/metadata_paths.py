"""One rule for metadata keys everywhere (commit, update, search, retention metrics): a key is a
path, and a dotted key "metrics.acc" is the key "acc" inside the object "metrics".

* At commit, dotted keys are expanded: {"metrics.acc": 0.5} is stored as {"metrics": {"acc": 0.5}}.
* An update merges by path: every leaf of what is set lands at its path, so {"metrics": {"f1": 0.6}}
  and {"metrics.f1": 0.6} both keep metrics.acc; a value that is not an object (a number, string,
  list, null) replaces what is at its path. An unset path removes that key (absent: nothing).
* Two keys naming one path ({"metrics": {"acc": 0.5}, "metrics.acc": 0.6}), or a value and a key
  below it ({"metrics": 1, "metrics.acc": 2}), are refused (INVALID_ARGUMENT): the stored metadata
  must never hold one path twice (the search index holds each path once).
* Setting a path through a value that is not an object ({"metrics": 1}, then "metrics.acc") is
  refused (FAILED_PRECONDITION): unset "metrics" in the same update to replace it.
"""

from __future__ import annotations

import copy
from typing import Any

from arkive_core.errors import FailedPrecondition, InvalidArgument

Path = tuple[str, ...]


def split(key: str) -> Path:
    if not isinstance(key, str):
        raise InvalidArgument(f"invalid metadata key {key!r}: keys are strings")
    parts = tuple(key.split("."))
    if "." in key and not all(parts):
        raise InvalidArgument(f"invalid metadata key {key!r}: an empty part between dots")
    return parts


def _dotted(path: Path) -> str:
    return ".".join(path)


def leaves(value: dict[str, Any], prefix: Path = ()) -> dict[Path, Any]:
    """Every leaf of an object by path; a non-empty object is not a leaf, an empty one is. Refuses
    two keys that name one path, or a value with a key below it."""
    out: dict[Path, Any] = {}
    for key, item in value.items():
        path = prefix + split(key)
        below = leaves(item, path) if isinstance(item, dict) and item else {path: item}
        for p, v in below.items():
            if p in out:
                raise InvalidArgument(f"metadata key {_dotted(p)!r} is given twice (as nested and dotted keys)")
            out[p] = v
    paths = set(out)
    for p in out:
        for i in range(1, len(p)):
            if p[:i] in paths:
                raise InvalidArgument(
                    f"metadata key {_dotted(p[:i])!r} is given a value and also a key below it ({_dotted(p)!r})"
                )
    return out


def _set(target: dict[str, Any], path: Path, value: Any) -> None:
    node = target
    for i, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None and part not in node:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = _dotted(path[: i + 1])
            raise FailedPrecondition(
                f"metadata key {where!r} holds {type(child).__name__} {child!r}, not an object, so"
                f" {_dotted(path)!r} cannot be set inside it; unset {where!r} in the same update to replace it"
            )
        node = child
    if isinstance(value, dict):  # an empty object: make sure one is there (merging nothing into it)
        current = node.get(path[-1])
        if current is None and path[-1] not in node:
            node[path[-1]] = {}
        elif not isinstance(current, dict):
            node[path[-1]] = {}
        return
    node[path[-1]] = copy.deepcopy(value)


def expand(metadata: dict[str, Any]) -> dict[str, Any]:
    """Commit metadata with dotted keys expanded into nested objects (see the module docstring)."""
    out: dict[str, Any] = {}
    for path, value in leaves(metadata).items():
        _set(out, path, value)
    return out


def _unset(target: dict[str, Any], path: Path) -> bool:
    node: Any = target
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def merge(base: dict[str, Any], assign: dict[str, Any], unset: list[str]) -> dict[str, Any]:
    """`base` with the paths of `unset` removed, then every leaf of `assign` set at its path."""
    try:
        out = expand(base)  # metadata logged before keys were paths may hold dotted keys
    except InvalidArgument as exc:
        raise FailedPrecondition(f"the stored metadata is ambiguous: {exc.message}; unset one of the keys") from None
    for key in unset:
        _unset(out, split(key))
    for path, value in leaves(assign).items():
        _set(out, path, value)
    return out


_MISSING = object()


def get(metadata: dict[str, Any], key: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path (`default`, or a private sentinel, when absent)."""
    node: Any = metadata
    for part in split(key):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def changed_leaves(before: dict[str, Any], assign: dict[str, Any]) -> dict[str, Any]:
    """The leaves of `assign` (by dotted path) whose value differs from `before`'s at that path."""
    out = {}
    for path, value in leaves(assign).items():
        old = get(before, _dotted(path))
        if old is _MISSING or old != value or type(old) is not type(value):
            out[_dotted(path)] = value
    return out
