"""Retention through the CLI (subprocess, --json) and the SDK against the real stack.

Every test uses its own project. Garbage collection only ever runs with --dry-run here: a real sweep
covers every project of the shared session stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

import arkive

ARKIVE = Path(sys.executable).with_name("arkive")
T = TypeVar("T")


def new_project() -> str:
    return "ret-" + uuid.uuid4().hex[:10]


def cli(stack: Any, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=env, timeout=300)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def cli_json(stack: Any, *argv: str) -> dict[str, Any]:
    return json.loads(cli(stack, *argv, "--json").stdout)


def failure(stack: Any, *argv: str) -> str:
    p = cli(stack, *argv, "--json", ok=False)
    assert (p.returncode, p.stdout) == (1, ""), p
    assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("error: "), p.stderr
    return p.stderr


def eventually(check: Callable[[], T], timeout: float = 30.0) -> T:
    """Retention plans follow the event log through the bus: retry until the check passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def log_versions(stack: Any, tmp: Path, project: str, n: int, name: str = "m", **aliases: str) -> list[dict]:
    """Logs n versions of project/name; aliases maps "v<i>" to an alias given to that version."""
    out = []
    for i in range(n):
        folder = tmp / f"{name}-{i}"
        folder.mkdir()
        (folder / "data.bin").write_bytes(f"{project} {name} {i}".encode())
        (folder / "shared.txt").write_text("shared by every version")
        extra = ["--alias", aliases[f"v{i}"]] if f"v{i}" in aliases else []
        out.append(cli_json(stack, "log", str(folder), "--project", project, "--name", name, *extra))
    return out


def live(stack: Any, project: str, name: str = "m") -> list[int]:
    return sorted(v["version"] for v in cli_json(stack, "versions", f"{project}/{name}")["versions"])


def test_rm_refused_while_aliased_then_undelete(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    vs = log_versions(stack, tmp_path, p, 3, v1="production")
    err = failure(stack, "rm", f"{p}/m:production")
    assert err.startswith("error: FAILED_PRECONDITION: ") and "production" in err
    assert live(stack, p) == [0, 1, 2]

    doc = cli_json(stack, "rm", "m:production", "--project", p, "--delete-aliases")
    assert doc["deleted"] == [{"version_id": vs[1]["version_id"], "version": 1}]
    assert "was deleted" in failure(stack, "show", f"{p}/m:v1")
    assert "NOT_FOUND" in failure(stack, "show", f"{p}/m:production")
    assert live(stack, p) == [0, 2]

    # Deleting latest moves it back to the newest remaining version.
    assert cli_json(stack, "rm", f"{p}/m")["deleted"][0]["version"] == 2
    assert cli_json(stack, "show", f"{p}/m")["version"] == 0

    back = cli_json(stack, "undelete", f"{p}/m:v1")
    assert back["undeleted"] == [{"version_id": vs[1]["version_id"], "version": 1}]
    assert cli_json(stack, "undelete", vs[2]["version_id"])["undeleted"][0]["version"] == 2
    assert cli_json(stack, "show", f"{p}/m")["version"] == 2
    assert "production" in cli_json(stack, "show", f"{p}/m:v1")["aliases"]  # the undelete put it back
    assert "FAILED_PRECONDITION" in failure(stack, "undelete", f"{p}/m:v1")  # not deleted

    text = cli(stack, "rm", f"{p}/m:v0").stdout
    assert f"deleted v0 ({vs[0]['version_id']})" in text


def test_rm_and_undelete_collection(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    log_versions(stack, tmp_path, p, 2, v1="best")
    assert "FAILED_PRECONDITION" in failure(stack, "rm", "--collection", f"{p}/m")
    doc = cli_json(stack, "rm", "--collection", "m", "-p", p, "--delete-aliases")
    assert (doc["project"], doc["name"], sorted(d["version"] for d in doc["deleted"])) == (p, "m", [0, 1])
    assert cli_json(stack, "ls", "--project", p)["artifacts"] == []
    doc = cli_json(stack, "undelete", "--collection", f"{p}/m")
    assert sorted(d["version"] for d in doc["undeleted"]) == [0, 1]
    assert live(stack, p) == [0, 1]


def test_keep_last_policy_plan_then_apply(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    vs = log_versions(stack, tmp_path, p, 5, v0="production")
    pol = cli_json(stack, "retention", "policy", "set", "last2", "--project", p, "--keep-last", "2")
    assert (pol["project"], pol["name"], pol["keep_last"], pol["mode"]) == (p, "last2", 2, "max")
    listed = cli_json(stack, "retention", "policy", "ls", "-p", p)
    assert [(x["name"], x["keep_last"]) for x in listed["policies"]] == [("last2", 2)]

    def planned() -> dict[str, Any]:
        plan = cli_json(stack, "retention", "plan", "--project", p)
        assert plan["total_deletions"] == 2, plan
        return plan

    plan = eventually(planned)
    assert [d["version"] for d in plan["deletions"]] == [1, 2]
    assert plan["deletions"][0]["reasons"] == ["policy last2: not among the 2 newest"]
    assert plan["deletions"][0]["version_id"] == vs[1]["version_id"]
    assert plan["protected_versions"] == 1  # v0 holds production
    assert live(stack, p) == [0, 1, 2, 3, 4]  # a plan deletes nothing
    text = cli(stack, "retention", "plan", "-p", p).stdout
    assert "2 versions would be deleted" in text and "1 more are protected by aliases" in text

    applied = cli_json(stack, "retention", "apply", "--project", p)
    assert (applied["project"], applied["deleted"]) == (p, 2)
    assert live(stack, p) == [0, 3, 4]

    assert cli_json(stack, "retention", "policy", "rm", "last2", "-p", p)["removed"] is True
    assert cli_json(stack, "retention", "policy", "ls", "-p", p)["policies"] == []


def test_ttls_plan_with_as_of(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    log_versions(stack, tmp_path, p, 3)
    assert cli_json(stack, "ttl", "default", "--project", p, "1h")["ttl_seconds"] == 3600
    cli_json(stack, "ttl", "set", f"{p}/m:v1", "never")
    cli_json(stack, "ttl", "set", f"{p}/m:v2", "2h")
    assert cli_json(stack, "retention", "policy", "ls", "-p", p)["default_ttls"] == {"": 3600}
    later = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 5400))

    def planned() -> dict[str, Any]:
        plan = cli_json(stack, "retention", "plan", "-p", p, "--as-of", later)
        assert plan["total_deletions"] == 1, plan
        return plan

    assert eventually(planned)["deletions"][0]["reasons"] == ["ttl 1h passed"]  # v0; v1 never, v2 after 2h
    assert cli_json(stack, "retention", "plan", "-p", p)["total_deletions"] == 0  # nothing expired yet
    cli_json(stack, "ttl", "set", f"{p}/m:v1", "inherit")
    eventually(lambda: assert_total(cli_json(stack, "retention", "plan", "-p", p, "--as-of", later), 2))


def assert_total(plan: dict[str, Any], n: int) -> None:
    assert plan["total_deletions"] == n, plan


def test_storage_report_and_gc_dry_run(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    log_versions(stack, tmp_path, p, 2)
    cli_json(stack, "rm", f"{p}/m:v0")

    def report() -> dict[str, Any]:
        doc = cli_json(stack, "storage", "--project", p)
        assert doc["project"] == p
        assert [(c["name"], c["versions"], c["deleted_versions"]) for c in doc["collections"]] == [("m", 1, 1)]
        return doc

    doc = eventually(report)
    col = doc["collections"][0]
    size = len(f"{p} m 1") + len("shared by every version")
    assert col["logical_bytes"] == size and col["referenced_bytes"] == size
    assert doc["bytes_stored"] >= size and doc["blobs_stored"] >= 2
    assert f"{p}/m" in cli(stack, "storage", "-p", p).stdout

    gc = cli_json(stack, "gc", "--dry-run")
    assert gc["dry_run"] is True and gc["grace_seconds"] == 86_400
    assert gc["blobs_deleted"] == 0 and gc["staging_deleted"] == 0
    assert gc["blobs_total"] >= 2
    assert cli(stack, "gc", "--dry-run", "--grace", "1s").stdout.startswith("dry run: ")
    # Nothing was deleted: the live version downloads, and the deleted one comes back whole.
    out = tmp_path / "restored"
    assert cli_json(stack, "get", f"{p}/m:v1", "--out", str(out))["files_written"] == 2
    cli_json(stack, "undelete", f"{p}/m:v0")
    assert cli_json(stack, "get", f"{p}/m:v0", "--out", str(tmp_path / "v0"))["files_written"] == 2


def test_sdk_round_trip(stack: Any, tmp_path: Path) -> None:
    p = new_project()
    with arkive.Client(address=stack.gateway_addr, project=p, progress=False) as client:
        versions = []
        for i in range(3):
            (tmp_path / f"f{i}").write_text(f"{p} {i}")
            art = arkive.Artifact("m", type="model", metadata={"acc": [0.5, 0.9, 0.7][i]})
            art.add_file(tmp_path / f"f{i}", name="w.txt")
            versions.append(client.log_artifact(art, aliases=["production"] if i == 0 else ()))
        with pytest.raises(arkive.FailedPrecondition):
            client.delete(versions[0])
        assert client.delete(versions[0], delete_aliases=True).deleted[0].version == 0
        assert client.undelete(versions[0]).undeleted[0].version_id == versions[0].version_id
        # The undelete put back the alias the delete removed; take it away for the policy below.
        assert "production" in client.get_version(versions[0].version_id).aliases
        assert client.set_aliases(versions[0], remove=["production"]).aliases == []
        client.set_ttl(versions[2], timedelta(days=30))
        client.set_default_ttl(None, timedelta(days=7), type="model")
        policy = client.put_policy("best1", keep_best=1, metric="acc", mode="max")
        assert policy == arkive.RetentionPolicy(p, "best1", keep_best=1, metric="acc", mode="max")
        listed = client.policies()
        assert listed.policies == (policy,) and listed.default_ttls == {"model": timedelta(days=7)}

        def planned() -> arkive.RetentionPlan:
            plan = client.retention_plan()
            assert plan.total_deletions == 2, plan
            return plan

        assert sorted(d.version for d in eventually(planned).deletions) == [0, 2]
        assert client.retention_apply().deleted == 2
        assert [v.version for v in client.versions("m")] == [1]
        report = eventually(lambda: _one_collection(client.storage(p)))
        assert (report.collections[0].versions, report.collections[0].deleted_versions) == (1, 2)


def _one_collection(report: arkive.StorageReport) -> arkive.StorageReport:
    assert len(report.collections) == 1 and report.collections[0].deleted_versions == 2, report
    return report
