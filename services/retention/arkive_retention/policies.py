"""Pure retention planning: which live versions TTLs and policies would delete, and why. No I/O.

Rules, in the order a reader needs them:
* A version holding an alias other than `latest` is never deleted (counted as protected).
* A version any applicable policy *keeps* (keep_last / keep_best) is never deleted, not by TTL
  either: keep rules are the user's explicit "these must stay".
* TTL: the version's own TTL (-1 inherit, 0 never, > 0 seconds), else the project default for its
  type, else the project default for every type; expired when created_at + ttl <= now.
* A policy dooms a version in its scope that it does not keep, if it has a keep rule and no
  max_age, or if the version is older than max_age.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from arkive_common import api_retention as ra


@dataclass(frozen=True, slots=True)
class Candidate:
    project: str
    name: str
    type: str
    version_id: str
    version: int
    created_at: float
    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # aliases other than latest
    ttl_seconds: int = -1


def duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def metric_of(metadata: dict[str, Any], path: str) -> float | None:
    value: Any = metadata
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def in_scope(policy: ra.Policy, c: Candidate) -> bool:
    if policy.type and policy.type != c.type:
        return False
    return not policy.name_pattern or fnmatch.fnmatchcase(c.name, policy.name_pattern)


def _keeps(policy: ra.Policy, versions: list[Candidate]) -> set[str]:
    kept: set[str] = set()
    if policy.keep_last:
        newest = sorted(versions, key=lambda c: c.version, reverse=True)
        kept |= {c.version_id for c in newest[: policy.keep_last]}
    if policy.keep_best and policy.metric:
        scored = [(metric_of(c.metadata, policy.metric), c) for c in versions]
        ranked = sorted(
            ((m, c) for m, c in scored if m is not None),
            key=lambda mc: (mc[0] if policy.mode == "max" else -mc[0], mc[1].version),
            reverse=True,
        )
        kept |= {c.version_id for _, c in ranked[: policy.keep_best]}
    return kept


def _doom_reason(policy: ra.Policy, c: Candidate, now: float) -> str | None:
    parts = []
    if policy.keep_last:
        parts.append(f"not among the {policy.keep_last} newest")
    if policy.keep_best and policy.metric:
        parts.append(f"not among the {policy.keep_best} best by metadata.{policy.metric} ({policy.mode})")
    if policy.max_age_seconds:
        if now - c.created_at <= policy.max_age_seconds:
            return None
        parts.append(f"older than {duration(policy.max_age_seconds)}")
    if not parts:
        return None
    return f"policy {policy.name}: " + ", ".join(parts)


def effective_ttl(c: Candidate, defaults: dict[str, int]) -> int:
    return ttl_and_source(c.ttl_seconds, c.type, defaults)[0]


def ttl_and_source(own: int, type_: str, defaults: dict[str, int]) -> tuple[int, str]:
    """The TTL in force (0: never) and where it comes from: the version's own (-1 inherits), the
    project's default for its type, for every type, or none."""
    if own >= 0:
        return own, "version"
    if type_ in defaults:
        return defaults[type_], "type default"
    if "" in defaults:
        return defaults[""], "project default"
    return 0, "none"


def scheduled(deletions: list[ra.PlannedDeletion], policies: list[ra.Policy]) -> list[ra.PlannedDeletion]:
    """What the schedule may delete: the planned deletions with a reason other than a manual
    policy (a manual policy's keep rules still count: they shaped the plan)."""
    manual = tuple(f"policy {p.name}: " for p in policies if p.manual)
    return [d for d in deletions if any(not r.startswith(manual) for r in d.reasons)] if manual else deletions


def plan(candidates: list[Candidate], policies: list[ra.Policy], defaults: dict[str, int], now: float) -> ra.Plan:
    """candidates: the live versions of one project."""
    by_collection: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_collection[(c.project, c.name)].append(c)
    reasons: dict[str, list[str]] = defaultdict(list)
    kept: set[str] = set()
    for versions in by_collection.values():
        for policy in policies:
            scoped = [c for c in versions if in_scope(policy, c)]
            if not scoped:
                continue
            keeps = _keeps(policy, scoped)
            kept |= keeps
            for c in scoped:
                if c.version_id not in keeps and (reason := _doom_reason(policy, c, now)):
                    reasons[c.version_id].append(reason)
    for c in candidates:
        ttl = effective_ttl(c, defaults)
        if ttl > 0 and c.created_at + ttl <= now:
            reasons[c.version_id].append(f"ttl {duration(ttl)} passed")
    deletions: list[ra.PlannedDeletion] = []
    kept_by_alias: list[ra.ProtectedVersion] = []
    for c in sorted(candidates, key=lambda c: (c.name, c.version)):
        why = reasons.get(c.version_id)
        if not why or c.version_id in kept:
            continue
        if c.aliases:  # its own or a registry link's ("registry/zoo:production")
            kept_by_alias.append(ra.ProtectedVersion(c.project, c.name, c.version_id, c.version, why, list(c.aliases)))
            continue
        deletions.append(ra.PlannedDeletion(c.project, c.name, c.version_id, c.version, why))
    return ra.Plan(deletions=deletions, protected=len(kept_by_alias), protected_versions=kept_by_alias)
