"""Requests and replies of the lineage service (runs, lineage queries, step cache) on the bus."""

from __future__ import annotations

from typing import Any

import msgspec

from .api import VersionView


class StartRun(msgspec.Struct, frozen=True):
    project: str
    name: str = ""
    job_type: str = ""
    group: str = ""
    config: dict[str, Any] = {}
    heartbeat_timeout: int = 0


class RunView(msgspec.Struct, frozen=True):
    run_id: str
    project: str
    name: str
    job_type: str
    group: str
    config: dict[str, Any]
    state: str
    started_at: float
    finished_at: float | None
    used_version_ids: list[str]
    logged_version_ids: list[str]
    # "project/name:vN" of each id above, in the same order (the id itself for a version the graph
    # does not know yet, e.g. an event still on its way)
    used_refs: list[str] = []
    logged_refs: list[str] = []


class RunId(msgspec.Struct, frozen=True):
    run_id: str


class RunStateReply(msgspec.Struct, frozen=True):
    state: str


class FinishRun(msgspec.Struct, frozen=True):
    run_id: str
    state: str


class ListRuns(msgspec.Struct, frozen=True):
    project: str
    job_type: str = ""
    group: str = ""
    page_size: int = 100
    page_token: str = ""


class RunPage(msgspec.Struct, frozen=True):
    runs: list[RunView]
    next_page_token: str = ""


class UseArtifact(msgspec.Struct, frozen=True):
    run_id: str
    ref: str


class RecordCacheKey(msgspec.Struct, frozen=True):
    run_id: str
    cache_key: str
    version_ids: list[str]


class LookupCache(msgspec.Struct, frozen=True):
    project: str
    cache_key: str


class CacheHit(msgspec.Struct, frozen=True):
    hit: bool
    run_id: str = ""
    versions: list[VersionView] = []


class GetLineage(msgspec.Struct, frozen=True):
    ref: str
    direction: str = "up"  # "up", "down" or "both"
    depth: int = 5
    artifact_type: str = ""
    job_type: str = ""
    as_of: float | None = None
    limit: int = 1000
    page_size: int = 0
    page_token: str = ""


class NodeView(msgspec.Struct, frozen=True):
    id: str
    kind: str
    project: str
    name: str
    type: str
    version: int
    depth: int
    deleted: bool
    state: str


class EdgeView(msgspec.Struct, frozen=True):
    source: str
    target: str
    kind: str


class LineageGraph(msgspec.Struct, frozen=True):
    root: NodeView
    nodes: list[NodeView]
    edges: list[EdgeView]
    truncated: bool
    next_page_token: str = ""
