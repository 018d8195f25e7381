"""The CLI package: commands load lazily (help and version import no SDK), the command table matches
the commands, no import cycle between its modules, shell completion works."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click

import arkive.cli
from arkive.cli._app import COMMANDS

CLI_DIR = Path(arkive.cli.__file__).parent
HEAVY = ("grpc", "arkive_proto", "rich", "arkive.client", "arkive.aclient", "arkive.version")


def loaded_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after `arkive ARGV` (which exits with --help/--version)."""
    code = (
        "import json, sys\n"
        "from arkive.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    return set(json.loads(p.stderr.splitlines()[-1]))


def test_help_and_version_load_no_command_and_no_sdk() -> None:
    for argv in (["--help"], ["--version"]):
        mods = loaded_after(*argv)
        commands = {m for m in mods if m.startswith("arkive.cli.") and not m.split(".")[-1].startswith("_")}
        assert commands == set(), (argv, commands)
        assert not [m for m in mods if m.split(".")[0] in HEAVY or m in HEAVY], argv


def test_a_command_help_loads_its_module_only() -> None:
    mods = loaded_after("retention", "policy", "set", "--help")
    commands = {m for m in mods if m.startswith("arkive.cli.") and not m.split(".")[-1].startswith("_")}
    assert commands == {"arkive.cli.policies"}
    assert not [m for m in mods if m.split(".")[0] in HEAVY or m in HEAVY]


def test_table_names_each_command() -> None:
    for name, (module, attr, short) in COMMANDS.items():
        command = getattr(importlib.import_module(f"arkive.cli.{module}"), attr)
        assert isinstance(command, click.Command) and command.name == name
        assert short and (command.short_help in (None, short) or name == "up"), name


def _imports(path: Path) -> set[str]:
    """The arkive.cli modules a module imports anywhere (function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(n.split(".")[0] for n in names if n)
            elif node.module and node.module.startswith("arkive.cli."):
                found.add(node.module.split(".")[2])
    return found


def test_no_import_cycle_between_cli_modules() -> None:
    graph = {p.stem: _imports(p) for p in CLI_DIR.glob("*.py")}
    assert {"_output", "_options", "_sdk"} <= set(graph)

    def visit(node: str, path: list[str]) -> None:
        for nxt in graph.get(node, ()):
            assert nxt not in path, f"import cycle: {' -> '.join([*path, nxt])}"
            visit(nxt, [*path, nxt])

    for start in graph:
        visit(start, [start])
    # And the SDK modules never import the CLI.
    sdk = Path(arkive.__file__).parent
    for p in (p for p in sdk.glob("*.py") if p.name != "__main__.py"):
        assert ".cli" not in {n for n in _imports(p)} and "arkive.cli" not in p.read_text(), p


def test_shell_completion() -> None:
    arkive_bin = Path(sys.executable).with_name("arkive")
    env = {**os.environ, "_ARKIVE_COMPLETE": "bash_source"}
    script = subprocess.run([str(arkive_bin)], capture_output=True, text=True, env=env, timeout=60)
    assert script.returncode == 0 and "_arkive_completion" in script.stdout and "complete " in script.stdout
    env.update(_ARKIVE_COMPLETE="bash_complete", COMP_WORDS="arkive ret", COMP_CWORD="1")
    words = subprocess.run([str(arkive_bin)], capture_output=True, text=True, env=env, timeout=60)
    assert words.stdout.split() == ["plain,retention"]
    env.update(COMP_WORDS="arkive retention policy set p --mo", COMP_CWORD="5")
    words = subprocess.run([str(arkive_bin)], capture_output=True, text=True, env=env, timeout=60)
    assert words.stdout.split() == ["plain,--mode"]
