"""Aliases after logging through the SDK (sync and async) and the CLI against the real stack:
W&B's `version.aliases.append("production"); version.save()`, client.set_aliases, `arkive alias`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from arkive_core.errors import InvalidArgument, NotFound
from test_sdk_catalog_integration import art, cli, cli_json, new_project

import arkive


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def two_versions(client: arkive.Client, tmp: Path, project: str) -> list[arkive.ArtifactVersion]:
    return [client.log_artifact(art(tmp, "m", f"{project} {i}".encode()), project=project) for i in range(2)]


def test_edit_aliases_then_save_moves_and_removes(client, stack, tmp_path):
    project = new_project("al")
    v0, v1 = two_versions(client, tmp_path, project)
    v0.aliases.append("production")
    v0.aliases.append("staging")
    assert v0.save() is v0 and sorted(v0.aliases) == ["production", "staging"]
    assert v0.aliases == ("production", "staging") or v0.aliases == ("staging", "production")
    v1.aliases.append("production")  # moves it from v0
    v1.save()
    assert sorted(v1.aliases) == ["latest", "production"]
    fresh = client.get_version(f"{project}/m:v0")
    assert fresh.aliases == ["staging"]
    fresh.aliases.remove("staging")
    fresh.save()
    with pytest.raises(NotFound):
        client.get_version(f"{project}/m:staging")
    assert {a: t.ref for a, t in client.aliases(f"{project}/m").items()} == {
        "latest": f"{project}/m:v1",
        "production": f"{project}/m:v1",
    }
    v1.aliases.remove("latest")
    with pytest.raises(InvalidArgument, match="latest"):
        v1.save()


def test_set_aliases_sync_and_async(client, stack, tmp_path):
    project = new_project("al")
    v0, v1 = two_versions(client, tmp_path, project)
    got = client.set_aliases(f"{project}/m:v0", add=["a", "b"])
    assert sorted(got.aliases) == ["a", "b"]
    got = client.set_aliases(v1, add=["a"], remove=["b"])  # v1 lacks b: nothing to remove there
    assert sorted(got.aliases) == ["a", "latest"]
    with pytest.raises(InvalidArgument):
        client.set_aliases(v0, add=["latest"])

    async def in_asyncio() -> None:
        async with arkive.AsyncClient(address=stack.gateway_addr, project=project, progress=False) as ac:
            v = await ac.set_aliases("m:v0", remove=["b"], add=["c"])
            assert sorted(v.aliases) == ["c"]
            v.aliases.append("d")
            await v.save()
            assert sorted((await ac.get_version("m:d")).aliases) == ["c", "d"]
            assert sorted(await ac.aliases("m")) == ["a", "c", "d", "latest"]

    asyncio.run(in_asyncio())


def test_cli_alias_set_rm_ls(client, stack, tmp_path):
    project = new_project("al")
    two_versions(client, tmp_path, project)
    out = cli_json(stack, "alias", "set", f"{project}/m:v0", "production", "staging")
    assert sorted(out["aliases"]) == ["production", "staging"]
    out = cli_json(stack, "alias", "rm", f"{project}/m:v0", "staging")
    assert out["aliases"] == ["production"] and out["ref"] == f"{project}/m:v0"
    listed = cli_json(stack, "alias", "ls", f"{project}/m")
    assert [(a["alias"], a["ref"]) for a in listed["aliases"]] == [
        ("latest", f"{project}/m:v1"),
        ("production", f"{project}/m:v0"),
    ]
    text = cli(stack, "alias", "ls", "m", "--project", project).stdout
    assert text.splitlines()[1].startswith("production  " + f"{project}/m:v0")
    bad = cli(stack, "alias", "set", f"{project}/m:v0", "latest", ok=False)
    assert bad.returncode == 2 and "latest" in bad.stderr
    missing = cli(stack, "alias", "ls", f"{project}/nope", ok=False)
    assert missing.returncode == 1 and missing.stderr.startswith("error: NOT_FOUND")
