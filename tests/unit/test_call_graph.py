"""The bus call graph between services, derived from the code (call_graph.py), against what each
contract declares (`Contract.calls`), the architecture document, and the rule that services call
each other without request-reply cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from call_graph import CONTRACT_NAMES, PACKAGES, ROOT, docs_block, graph, render

from arkive_common.contract import Rpc
from arkive_common.contracts import CONTRACTS

ADMIN = {"ping", "rebuild_projections", "dead_letters", "retry_dead_letter", "check_consumers"}


def edges() -> set[tuple[str, str]]:
    return {(caller, callee) for caller, targets in graph().items() for callee in targets if callee != caller}


def test_each_contract_declares_the_services_its_code_calls() -> None:
    g = graph()
    for service, contract in CONTRACTS.items():
        assert set(contract.calls) == set(g[service]) - {service}, service


def test_services_call_each_other_without_cycles() -> None:
    remaining = edges()
    nodes = {n for e in remaining for n in e}
    order: list[str] = []
    while nodes:  # Kahn: repeatedly take a node nothing left calls
        free = sorted(n for n in nodes if not any(callee == n and caller in nodes for caller, callee in remaining))
        assert free, f"request-reply cycle among {sorted(nodes)}: {sorted(e for e in remaining if set(e) <= nodes)}"
        order += free
        nodes -= set(free)
    assert order[0] == "gateway"


def test_the_architecture_document_shows_this_graph() -> None:
    assert docs_block() == render(graph()), "run: python tests/unit/call_graph.py --write"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_services_reach_each_other_only_through_contracts() -> None:
    for service, package in PACKAGES.items():
        others = {f"arkive_{s}" for s in PACKAGES if s != service}
        for path in package.rglob("*.py"):
            assert not {i.split(".")[0] for i in _imports(path)} & others, path
    for path in (ROOT / "libs/common/arkive_common/contracts").glob("*.py"):
        assert all(not i.startswith("arkive_") or i.startswith("arkive_common") for i in _imports(path)), path


def test_every_method_of_a_contract_has_a_handler_in_its_service() -> None:
    for service, contract in CONTRACTS.items():
        registered: set[str] = set()
        for path in PACKAGES[service].rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "handle":
                    target = node.args[0]
                    if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") in CONTRACT_NAMES:
                        rpc = getattr(contract, target.attr)
                        assert isinstance(rpc, Rpc) and rpc.service == service, ast.unparse(target)
                        registered.add(rpc.name)
        declared = {r.name for r in contract.rpcs()} - ADMIN  # admin methods: projector.py, consumer_admin.py
        assert declared == registered - ADMIN, service
