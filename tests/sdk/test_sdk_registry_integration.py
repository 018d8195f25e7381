"""Registry collections through the blocking client and the CLI against the real stack: `versions`,
`ls`, `links`, `unlink`, `rm` refused while a link alias holds the version, `retention plan`."""

from __future__ import annotations

import time
from typing import Any

import pytest
from test_sdk_catalog_integration import art, cli, cli_json, new_project

import arkive


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def test_registry_through_the_cli(client, stack, tmp_path):
    team, registry = new_project("team"), new_project("registry")
    v0 = client.log_artifact(art(tmp_path, "clf", b"a" + team.encode(), type="model"), team)
    v1 = client.log_artifact(art(tmp_path, "clf", b"b" + team.encode(), type="model"), team)
    zoo = f"{registry}/zoo"
    client.link(v0, zoo, aliases=["production"])
    client.link(v1, zoo)
    assert [(x.ref, x.linked_from) for x in client.versions(zoo)] == [
        (f"{zoo}:v1", f"{team}/clf:v1"),
        (f"{zoo}:v0", f"{team}/clf:v0"),
    ]

    table = cli(stack, "versions", zoo).stdout
    assert "linked from" in table and f"{team}/clf:v0" in table and "has no versions" not in table
    doc = cli_json(stack, "ls", "--project", registry)
    [col] = doc["artifacts"]
    assert (col["version_count"], col["latest"]["version"], col["latest"]["linked_from"]) == (2, 1, f"{team}/clf:v1")
    links = cli_json(stack, "links", zoo)["links"]
    assert [(x["ref"], x["source_ref"], x["aliases"]) for x in links] == [
        (f"{zoo}:v1", f"{team}/clf:v1", ["latest"]),
        (f"{zoo}:v0", f"{team}/clf:v0", ["production"]),
    ]
    assert f"{zoo}:v0  -> {team}/clf:v0" in cli(stack, "links", zoo).stdout

    refused = cli(stack, "rm", f"{team}/clf:v0", ok=False)
    assert refused.returncode != 0 and "FAILED_PRECONDITION" in refused.stderr and f"{zoo}:production" in refused.stderr
    client.put_policy("last1", team, keep_last=1)
    deadline = time.monotonic() + 10  # retention's projection follows the event log
    while f"kept by alias {zoo}:production" not in (plan := cli(stack, "retention", "plan", "--project", team).stdout):
        assert time.monotonic() < deadline, plan
        time.sleep(0.2)
    assert f"{team}/clf:v0  {v0.version_id}  kept by alias {zoo}:production" in plan

    out = cli(stack, "unlink", f"{zoo}:production").stdout
    assert f"unlinked {zoo}:v0 (was {team}/clf:v0" in out and "aliases removed: production" in out
    assert "name the link" in cli(stack, "unlink", zoo, ok=False).stderr
    assert cli(stack, "rm", f"{team}/clf:v0").returncode == 0  # nothing holds it any more


def test_projects_and_search_across_projects_through_the_cli(client, stack, tmp_path):
    one, two = new_project("one"), new_project("two")
    name = new_project("ds")  # a collection name found only in these two projects
    client.log_artifact(art(tmp_path, name, b"x" * 100), one)
    client.log_artifact(art(tmp_path, name, b"y" * 50), two)
    doc = cli_json(stack, "projects")
    counts = {p["name"]: (p["collections"], p["versions"], p["total_bytes"]) for p in doc["projects"]}
    assert (counts[one], counts[two]) == ((1, 1, 100), (1, 1, 50))
    assert one in cli(stack, "projects").stdout.split()
    found = cli_json(stack, "search", "--all-projects", "--name", name)
    assert found["all_projects"] is True
    assert sorted(v["ref"] for v in found["versions"]) == sorted([f"{one}/{name}:v0", f"{two}/{name}:v0"])
    both = cli(stack, "search", "--all-projects", "--project", one, ok=False)
    assert both.returncode != 0 and "exclude each other" in both.stderr
