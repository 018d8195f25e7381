"""The bus call graph, derived from the code: every `….call(<CONTRACT>.<method>, …)` site in a
service package is an edge from that service to the contract's service. Run as a script to print
(or, with --write, replace) the block of docs/architecture.md that shows it."""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

from arkive_common.contract import Rpc
from arkive_common.contracts import CONTRACTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "gateway": ROOT / "services/gateway/arkive_gateway",
    "ingest": ROOT / "services/ingest/arkive_ingest",
    "hashing": ROOT / "services/hashing/arkive_hashing",
    "lineage": ROOT / "services/lineage/arkive_lineage",
    "retention": ROOT / "services/retention/arkive_retention",
}
CONTRACT_NAMES = {"INGEST": "ingest", "HASHING": "hashing", "LINEAGE": "lineage", "RETENTION": "retention"}
# Loops over a tuple of contracts (the gateway's fan-out to every service, or every consuming one).
FAN_OUT = {"ALL": ("ingest", "hashing", "lineage", "retention"), "CONSUMING": ("hashing", "lineage", "retention")}
DOCS = ROOT / "docs/architecture.md"
BEGIN, END = "<!-- bus-call-graph:begin (tests/unit/call_graph.py --write) -->", "<!-- bus-call-graph:end -->"


class Unresolved(Exception):
    """A bus call whose target service cannot be read from the code."""


def _fan_out_targets(tree: ast.AST, name: str) -> tuple[str, ...] | None:
    """The services of a loop variable `name` bound by `for name in ALL` (or a comprehension)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Name):
            if node.target.id == name and isinstance(node.iter, ast.Name) and node.iter.id in FAN_OUT:
                return FAN_OUT[node.iter.id]
            if node.target.id == name and isinstance(node.iter, ast.Name) and node.iter.id == "REQUIRED":
                return ("ingest", "hashing")
    return None


def calls_of(package: Path) -> dict[str, set[str]]:
    """Target service -> the methods this package calls on it."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Attribute):
                continue
            method = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if method == "handle":
                continue  # a registration, not a call
            target = node.args[0]
            name = target.value.id if isinstance(target.value, ast.Name) else ""
            services = (CONTRACT_NAMES[name],) if name in CONTRACT_NAMES else _fan_out_targets(tree, name)
            if services is None:
                if method == "call" and name not in ("self", "rpc"):  # "rpc": a typed wrapper's parameter
                    raise Unresolved(f"{path}:{node.lineno}: {ast.unparse(target)}")
                continue  # not a bus call, or one through a wrapper whose callers are scanned
            for service in services:
                rpc = getattr(CONTRACTS[service], target.attr, None)
                if isinstance(rpc, Rpc):  # not INGEST.service and the like
                    found.setdefault(service, set()).add(rpc.name)
    return found


@functools.cache
def graph() -> dict[str, dict[str, set[str]]]:
    return {service: calls_of(package) for service, package in PACKAGES.items()}


def render(g: dict[str, dict[str, set[str]]]) -> str:
    lines = [BEGIN, "```mermaid", "flowchart LR"]
    for caller, targets in g.items():
        for callee in sorted(targets):
            methods = sorted(targets[callee])
            label = ", ".join(methods) if len(methods) <= 4 else f"{len(methods)} methods"
            lines.append(f'    {caller} -->|"{label}"| {callee}')
    lines += ["```", "", "| caller | calls (bus request-reply) |", "|---|---|"]
    for caller, targets in g.items():
        cells = "; ".join(
            f"{callee}: {', '.join(f'`{m}`' for m in sorted(targets[callee]))}" for callee in sorted(targets)
        )
        lines.append(f"| {caller} | {cells or '—'} |")
    lines.append(END)
    return "\n".join(lines)


def docs_block() -> str:
    text = DOCS.read_text()
    return text[text.index(BEGIN) : text.index(END) + len(END)]


if __name__ == "__main__":
    block = render(graph())
    if "--write" in sys.argv:
        text = DOCS.read_text()
        DOCS.write_text(text.replace(docs_block(), block))
    else:
        print(block)
