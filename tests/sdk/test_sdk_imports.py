"""The SDK's import graph (from the source, with ast): no cycle, and the engine never imports the client."""

from __future__ import annotations

import ast
import types
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "libs" / "sdk" / "arkive"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every arkive module `path` imports, at any depth (function-level imports count too), but
    those under `if TYPE_CHECKING:`, which never run."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - child.level + 1] if child.level else []
                target = ".".join([*base, *([child.module] if child.module else [])])
                found.update(m for m in [target, *(f"{target}.{a.name}" for a in child.names)] if m in modules)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in modules)
            visit(child)

    visit(ast.parse(path.read_text()))
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PKG.rglob("*.py")}
    return {m: imports_of(p, set(paths)) for m, p in paths.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_sdk_has_no_import_cycle() -> None:
    # The CLI (arkive/cli/, on click) included.
    edges = graph()
    assert len(edges) > 50 and any(m.startswith("arkive.cli.") for m in edges)
    assert cycles(edges) == []


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_imports_no_client_module() -> None:
    # It talks to the gateway through a Transport (engine/transport.py) and the retry policy of
    # arkive._rpc; versions, artifacts and clients are not its business.
    allowed = {"arkive._rpc", "arkive._defaults", "arkive._keyed", "arkive._tls"}
    for module, deps in graph().items():
        if module.startswith("arkive.engine"):
            outside = {d for d in deps if not d.startswith("arkive.engine") and d != "arkive"}
            assert outside <= allowed, (module, outside - allowed)


def test_starting_the_cli_loads_neither_the_transfer_engine_nor_the_service_stubs() -> None:
    # `arkive --help` stays fast: feature modules are imported for their result types and printers,
    # their gRPC stubs and the transfer machinery only when a call needs them.
    import subprocess
    import sys

    code = "import sys, arkive.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "arkive.cli" in loaded
    assert not {m for m in loaded if m.startswith("arkive.engine.")} - {"arkive.engine.cache", "arkive.engine.types"}
    stubs = {f"arkive_proto.v1.{s}_service_pb2_grpc" for s in ("artifact", "lineage", "retention", "catalog", "blob")}
    assert not loaded & stubs, loaded & stubs
    assert "arkive.aclient" not in loaded and "arkive.client" not in loaded


def test_every_public_name_resolves() -> None:
    """The lazy table of arkive/__init__.py names modules by path: a moved module breaks a name only
    when it is first used (cache_info pointed at a module that had moved into the engine)."""
    import arkive

    missing = []
    for name in arkive.__all__:
        try:
            getattr(arkive, name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{name}: {exc}")
    assert not missing
    # A name that is also a submodule's (arkive.step) stays the function once that module is imported.
    assert not [name for name in arkive.__all__ if isinstance(getattr(arkive, name), types.ModuleType)]


def test_a_function_named_like_its_module_survives_the_module_import() -> None:
    """`arkive.Ref` imports the submodule arkive.step, which sets `arkive.step` to the module: the
    decorator must still be what `@arkive.step` finds (a fresh interpreter: no earlier lookups)."""
    import subprocess
    import sys

    code = "import arkive, types; arkive.Ref; assert not isinstance(arkive.step, types.ModuleType), arkive.step"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
