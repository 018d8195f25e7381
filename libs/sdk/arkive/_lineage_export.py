"""Rendering a lineage graph as Mermaid, Graphviz DOT or JSON (what `arkive lineage` prints)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class LineageNode:
    id: str
    kind: str  # "version" or "run"
    project: str
    name: str
    type: str  # artifact type or job type
    version: int  # -1 for runs
    depth: int
    deleted: bool = False
    state: str = ""  # run state

    @property
    def label(self) -> str:
        if self.kind == "version":
            return f"{self.project}/{self.name}:v{self.version}" + (" (deleted)" if self.deleted else "")
        return f"{self.name} [{self.type or 'run'}]" + (f" {self.state}" if self.state else "")


@dataclass(frozen=True, slots=True)
class LineageEdge:
    source: str
    target: str
    kind: str  # "used" or "logged"


@dataclass(frozen=True, slots=True)
class LineageGraph:
    root: LineageNode
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)
    truncated: bool = False

    def to_dict(self) -> dict:
        return {
            "root": asdict(self.root),
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [asdict(e) for e in self.edges],
            "truncated": self.truncated,
        }


def _ids(graph: LineageGraph) -> dict[str, str]:
    """Short, syntax-safe identifiers (n0, n1, …) for nodes, stable in node order."""
    return {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}


def _quote_mermaid(text: str) -> str:
    # Mermaid labels in "…" may not contain a double quote; #quot; is its escape.
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(graph: LineageGraph) -> str:
    ids = _ids(graph)
    lines = ["flowchart LR"]
    for n in graph.nodes:
        label = _quote_mermaid(n.label)
        shape = f"[{label}]" if n.kind == "version" else f"([{label}])"
        lines.append(f"    {ids[n.id]}{shape}")
    for e in graph.edges:
        if e.source in ids and e.target in ids:
            lines.append(f"    {ids[e.source]} -->|{e.kind}| {ids[e.target]}")
    if graph.root.id in ids:
        lines.append(f"    style {ids[graph.root.id]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def _quote_dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: LineageGraph) -> str:
    ids = _ids(graph)
    lines = ["digraph lineage {", "    rankdir=LR;"]
    for n in graph.nodes:
        attrs = [f"label={_quote_dot(n.label)}", "shape=box" if n.kind == "version" else "shape=ellipse"]
        if n.id == graph.root.id:
            attrs.append("penwidth=3")
        if n.deleted:
            attrs.append("style=dashed")
        lines.append(f"    {ids[n.id]} [{', '.join(attrs)}];")
    for e in graph.edges:
        if e.source in ids and e.target in ids:
            lines.append(f"    {ids[e.source]} -> {ids[e.target]} [label={_quote_dot(e.kind)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: LineageGraph) -> str:
    return json.dumps(graph.to_dict(), indent=2, sort_keys=True) + "\n"


RENDERERS = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}
