"""The catalogue through the SDK and the CLI against the real stack: metadata after commit (the ZenML
flow), search, registry links (W&B link_artifact)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import arkive

ARKIVE = Path(sys.executable).with_name("arkive")


def new_project(prefix: str = "cat") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def cli(stack: Any, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    env["COLUMNS"] = "200"  # rich tables: no wrapping inside refs
    p = subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=env, timeout=300)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def cli_json(stack: Any, *argv: str) -> Any:
    return json.loads(cli(stack, *argv, "--json").stdout)


def art(tmp: Path, name: str, content: bytes, type: str = "dataset", **kw: Any) -> arkive.Artifact:
    folder = tmp / f"{name}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "data.bin").write_bytes(content)
    a = arkive.Artifact(name, type=type, **kw)
    a.add_dir(folder)
    return a


def test_zenml_flow_label_then_tags_metadata_description_after_commit(client, stack, tmp_path):
    project = new_project()
    logged = client.log_artifact(art(tmp_path, "ds", project.encode()), project=project, label="raw_2023", tags=["raw"])
    v = client.update_version(
        f"{project}/ds:raw_2023",
        metadata={"rows": 70000, "source": "s3"},
        add_tags=["clean", "gold"],
        remove_tags=["raw"],
        description="deduplicated",
    )
    assert (v.metadata, v.tags, v.description) == ({"rows": 70000, "source": "s3"}, ("clean", "gold"), "deduplicated")
    for ref in (f"{project}/ds:raw_2023", f"{project}/ds:v0"):  # by label, by name + version
        got = client.get_version(ref)
        assert (got.version_id, got.manifest_digest, got.label) == (
            logged.version_id,
            logged.manifest_digest,
            "raw_2023",
        )
        assert got.metadata == {"rows": 70000, "source": "s3"} and got.tags == ("clean", "gold")
    v = client.update_version(got, unset=["source"])
    assert v.metadata == {"rows": 70000} and v.description == "deduplicated"  # description untouched

    # The same through the CLI: JSON values parsed, bare text kept as strings, dotted keys merge.
    ref = f"{project}/ds:raw_2023"
    doc = cli_json(stack, "meta", "set", ref, "accuracy=0.93", "owner=team ml", "ok=true", "metrics.f1=0.5")
    assert doc["metadata"] == {"rows": 70000, "accuracy": 0.93, "owner": "team ml", "ok": True, "metrics": {"f1": 0.5}}
    doc = cli_json(stack, "meta", "set", ref, "metrics.auc=0.7")
    assert doc["metadata"]["metrics"] == {"f1": 0.5, "auc": 0.7}
    doc = cli_json(stack, "meta", "unset", ref, "owner", "metrics.f1")
    assert doc["metadata"] == {"rows": 70000, "accuracy": 0.93, "ok": True, "metrics": {"auc": 0.7}}
    assert cli_json(stack, "tag", "add", ref, "reviewed", "v2")["tags"] == ["clean", "gold", "reviewed", "v2"]
    assert cli_json(stack, "tag", "rm", ref, "gold", "-p", project)["tags"] == ["clean", "reviewed", "v2"]
    assert cli_json(stack, "describe", "ds:raw_2023", "-p", project, "final")["description"] == "final"
    after = client.get_version(f"{project}/ds:v0")
    assert (after.manifest_digest, after.file_count, after.version) == (logged.manifest_digest, logged.file_count, 0)
    assert len(client.versions(f"{project}/ds")) == 1  # no new version was made

    p = cli(stack, "meta", "set", ref, "novalue", "--json", ok=False)
    assert p.returncode == 2 and p.stderr.startswith("error: ")
    p = cli(stack, "tag", "add", f"{project}/ds:v7", "x", "--json", ok=False)
    assert p.returncode == 1 and "NOT_FOUND" in p.stderr


def test_search_filters_sorting_and_paging(client, stack, tmp_path):
    project = new_project()
    with client.run(project=project, job_type="train") as run:
        for i, acc in enumerate([0.5, 0.91, 0.95, 0.9, 0.99]):
            a = art(
                tmp_path, f"clf-{i}", f"{project}{i}".encode(), type="model", metadata={"metrics": {"accuracy": acc}}
            )
            if i < 2:
                run.log_artifact(a, tags=["prod"] if acc > 0.9 else [])
            else:
                client.log_artifact(a, project=project, tags=["prod"] if acc > 0.92 else [], aliases=["best"])
    client.log_artifact(
        art(tmp_path, "table", b"t" + project.encode(), metadata={"metrics": {"accuracy": 0.97}}), project
    )

    def accs(vs: list[arkive.ArtifactVersion]) -> list[float]:
        return [v.metadata["metrics"]["accuracy"] for v in vs]

    found = client.search(project, type="model", where=["metrics.accuracy>0.9"], order_by="-metrics.accuracy")
    assert accs(found) == [0.99, 0.95, 0.91]
    assert all(isinstance(v, arkive.ArtifactVersion) and v.type == "model" for v in found)
    asc = client.search(project, where="metadata.metrics.accuracy>=0.9", order_by="metrics.accuracy", type="model")
    assert accs(asc) == [0.9, 0.91, 0.95, 0.99]
    assert accs(client.search(project, where="metrics.accuracy>=0.9", order_by="metrics.accuracy", descending=True))[
        :2
    ] == [0.99, 0.97]
    assert {v.name for v in client.search(project, tags=["prod"])} == {"clf-1", "clf-2", "clf-4"}
    assert {v.name for v in client.search(project, run_id=run.run_id)} == {"clf-0", "clf-1"}
    assert {v.name for v in client.search(project, name="clf-?", alias="best")} == {"clf-2", "clf-3", "clf-4"}
    assert [v.name for v in client.search(project, limit=2)] == ["table", "clf-4"]  # newest first
    assert len(client.search(project, created_after=datetime.now(UTC) - timedelta(hours=1), limit=None)) == 6
    assert not client.search(project, created_before=datetime.now(UTC) - timedelta(hours=1))
    # Paging: tiny pages walk the same order without repeats.
    paged = [v.name for v in client.search_iter(project, page_size=2, order_by="version", where=["metrics.accuracy>0"])]
    assert sorted(paged) == sorted(v.name for v in client.search(project, limit=None)) and len(paged) == 6
    with pytest.raises(arkive.InvalidArgument):
        client.search(project, where=["accuracy>>1"])

    where = "metadata.metrics.accuracy>0.9"
    doc = cli_json(stack, "search", "-p", project, "--type", "model", "--where", where, "--sort=-metrics.accuracy")
    assert [v["name"] for v in doc["versions"]] == ["clf-4", "clf-2", "clf-1"]
    doc = cli_json(stack, "search", "-p", project, "-t", "model", "-w", where, "--sort", "metrics.accuracy", "--desc")
    assert [v["name"] for v in doc["versions"]] == ["clf-4", "clf-2", "clf-1"]
    doc = cli_json(stack, "search", "-p", project, "--name", "clf*", "--tag", "prod", "--created-after", "1h")
    assert {v["name"] for v in doc["versions"]} == {"clf-1", "clf-2", "clf-4"}
    assert len(cli_json(stack, "search", "-p", project, "--limit", "3")["versions"]) == 3
    table = cli(stack, "search", "-p", project, "--where", "metrics.accuracy>0.95").stdout
    assert "clf-4" in table and "0.99" in table and "clf-2" not in table
    p = cli(stack, "search", "-p", project, "--created-after", "yesterday", "--json", ok=False)
    assert p.returncode == 2
    # ls keeps listing collections.
    assert {c["name"] for c in cli_json(stack, "ls", "-p", project, "--type", "model")["artifacts"]} == {
        f"clf-{i}" for i in range(5)
    }


def test_registry_link_moves_production_without_new_bytes(client, stack, tmp_path):
    team, registry = new_project("team"), new_project("registry")
    v0 = client.log_artifact(art(tmp_path, "resnet", b"w0" + team.encode(), type="model"), team)
    v1 = client.log_artifact(art(tmp_path, "resnet", b"w1" + team.encode(), type="model"), team)
    zoo = f"{registry}/model-zoo-resnet"
    first = client.link(v0, zoo, aliases=["production"])
    assert (first.created, first.link_version, first.ref, first.aliases) == (
        True,
        0,
        f"{zoo}:v0",
        ("latest", "production"),
    )
    assert first.version.version_id == v0.version_id
    assert client.get_version(f"{zoo}:production").version_id == v0.version_id
    second = client.link(f"{team}/resnet:v1", zoo)
    assert (second.created, second.link_version) == (True, 1)
    assert client.get_version(zoo).version_id == v1.version_id  # latest follows the newest link
    assert client.get_version(f"{zoo}:production").version_id == v0.version_id

    doc = cli_json(stack, "link", f"{team}/resnet:v1", zoo, "--alias", "production")
    assert (doc["created"], doc["link_version"], doc["link_ref"]) == (False, 1, f"{zoo}:v1")
    prod = client.get_version(f"{zoo}:production")
    assert (prod.version_id, prod.manifest_digest, prod.project, prod.name) == (
        v1.version_id,
        v1.manifest_digest,
        team,
        "resnet",
    )  # the linked version itself: no copy, no new bytes
    restored = prod.download(tmp_path / "restored")
    assert (restored / "data.bin").read_bytes() == b"w1" + team.encode()
    [col] = client.artifacts(registry)
    assert (col.name, col.version_count, col.latest.version_id) == ("model-zoo-resnet", 2, v1.version_id)
    assert "already linked" in cli(stack, "link", v1.version_id, zoo).stdout
