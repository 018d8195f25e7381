"""Step-cache keys (ZenML-style caching): one digest over what determines a step's outputs."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any


def code_hash(fn: Callable[..., Any]) -> str:
    """sha256 of the function's source (its bytecode when the source is not available)."""
    try:
        text = inspect.getsource(fn).encode()
    except (OSError, TypeError):
        text = fn.__code__.co_code
    return hashlib.sha256(text).hexdigest()


def step_identity(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def cache_key(identity: str, code: str, parameters: Mapping[str, Any], inputs: Mapping[str, str]) -> str:
    """Key over step identity, code hash, JSON parameters and the manifest digests of input versions.

    Parameters must be JSON-serialisable (sorted keys make dict order irrelevant); inputs map an
    argument name to the manifest digest of the version it resolved to, so the same content under a
    different version still hits.
    """
    try:
        params = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=_reject)
    except TypeError as exc:
        raise TypeError(f"step parameters must be JSON-serialisable to be cached: {exc}") from None
    body = json.dumps(
        {"step": identity, "code": code, "params": params, "inputs": dict(sorted(inputs.items()))},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "step:" + hashlib.sha256(body.encode()).hexdigest()


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
