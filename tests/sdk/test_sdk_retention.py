"""Retention in the SDK and CLI against the fake gateway: argument handling, the requests sent, result
objects and the CLI's output contracts. Semantics are tested against the real stack in
test_sdk_retention_integration.py."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sdk_fake_gateway import FakeGateway

import arkive
from arkive import cli
from arkive.retention import format_duration, parse_duration


@pytest.fixture
def client(fake_gateway: FakeGateway):
    with arkive.Client(address=fake_gateway.address, project="demo", progress=False) as c:
        yield c


def sent(gw: FakeGateway, method: str):
    requests = [r for m, r in gw.state.retention if m == method]
    assert requests, f"no {method} call"
    return requests[-1]


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("2W") == timedelta(days=14)
    for bad in ("", "30", "d", "1.5h", "0s", "-1d", "1y", "30 d"):
        with pytest.raises(arkive.InvalidArgument):
            parse_duration(bad)
    assert format_duration(36 * 3600) == "1d12h"
    assert format_duration(90) == "1m30s"


def test_delete_and_undelete_requests(client: arkive.Client, fake_gateway: FakeGateway) -> None:
    r = client.delete("m:production", delete_aliases=True)
    req = sent(fake_gateway, "DeleteVersion")
    assert (req.ref, req.delete_aliases, req.purge, req.confirm) == ("demo/m:production", True, False, False)
    assert [(c.version, c.version_id) for c in r.deleted] == [(2, "a" * 32)]
    assert r.to_dict() == {"deleted": [{"version_id": "a" * 32, "version": 2}], "skipped": []}
    client.delete("other/m:v1", purge=True)
    req = sent(fake_gateway, "DeleteVersion")
    assert (req.ref, req.purge, req.confirm) == ("other/m:v1", True, True)  # the call is the confirmation

    r = client.delete_collection("m")
    req = sent(fake_gateway, "DeleteCollection")
    assert (req.project, req.name, req.delete_aliases) == ("demo", "m", False)
    assert r.skipped[0].reason == "already deleted"
    client.delete_collection("p2/m", delete_aliases=True, purge=True)
    req = sent(fake_gateway, "DeleteCollection")
    assert (req.project, req.name, req.delete_aliases, req.purge, req.confirm) == ("p2", "m", True, True, True)
    with pytest.raises(arkive.InvalidArgument):
        client.delete_collection("m:v1")

    assert client.undelete("m:v2").undeleted[0].version == 2
    assert sent(fake_gateway, "UndeleteVersion").ref == "demo/m:v2"
    client.undelete("a" * 32)
    assert sent(fake_gateway, "UndeleteVersion").ref == "a" * 32
    client.undelete_collection("p3/m")
    assert (sent(fake_gateway, "UndeleteCollection").project, sent(fake_gateway, "UndeleteCollection").name) == (
        "p3",
        "m",
    )


def test_ttls(client: arkive.Client, fake_gateway: FakeGateway) -> None:
    for ttl, seconds in ((timedelta(days=30), 30 * 86_400), (None, 0), (arkive.INHERIT, -1)):
        client.set_ttl("m:v1", ttl)
        req = sent(fake_gateway, "SetVersionTtl")
        assert (req.ref, req.ttl_seconds) == ("demo/m:v1", seconds)
    client.set_ttl("m", timedelta(seconds=1.2))  # rounded up to whole seconds
    assert sent(fake_gateway, "SetVersionTtl").ttl_seconds == 2
    for bad in (timedelta(0), timedelta(seconds=-5), "forever", 3600):
        with pytest.raises(arkive.InvalidArgument):
            client.set_ttl("m", bad)  # type: ignore[arg-type]

    client.set_default_ttl("p", timedelta(hours=12), "model")
    req = sent(fake_gateway, "SetDefaultTtl")
    assert (req.project, req.type, req.ttl_seconds) == ("p", "model", 43_200)
    client.set_default_ttl(None, None)
    req = sent(fake_gateway, "SetDefaultTtl")
    assert (req.project, req.type, req.ttl_seconds) == ("demo", "", 0)
    with pytest.raises(arkive.InvalidArgument):
        client.set_default_ttl("p", timedelta(hours=1), "bad type")


def test_policies(client: arkive.Client, fake_gateway: FakeGateway) -> None:
    p = client.put_policy("best3", keep_best=3, metric="metrics.loss", mode="min", max_age=timedelta(days=7))
    req = sent(fake_gateway, "PutPolicy").policy
    assert (req.project, req.name, req.keep_best, req.metric, req.mode, req.max_age_seconds) == (
        "demo",
        "best3",
        3,
        "metrics.loss",
        "min",
        7 * 86_400,
    )
    assert p == arkive.RetentionPolicy(
        "demo", "best3", keep_best=3, metric="metrics.loss", mode="min", max_age=timedelta(days=7)
    )
    assert p.to_dict()["max_age_seconds"] == 604_800
    calls = len(fake_gateway.state.retention)
    for kwargs in (
        {},  # no rule
        {"keep_best": 2},  # no metric
        {"keep_last": -1},
        {"keep_last": 1, "mode": "median"},
        {"keep_last": 1, "type": "a b"},
    ):
        with pytest.raises(arkive.InvalidArgument):
            client.put_policy("x", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(arkive.InvalidArgument):
        client.put_policy("bad name", keep_last=1)
    assert len(fake_gateway.state.retention) == calls  # nothing sent

    client.remove_policy("best3", "p9")
    assert (sent(fake_gateway, "RemovePolicy").project, sent(fake_gateway, "RemovePolicy").name) == ("p9", "best3")
    listed = client.policies()
    assert [x.name for x in listed.policies] == ["last2"]
    assert listed.default_ttls == {"": timedelta(days=1), "model": timedelta(hours=1)}
    assert json.loads(json.dumps(listed.to_dict()))["default_ttls"] == {"": 86_400, "model": 3600}


def test_plan_apply_gc_storage(client: arkive.Client, fake_gateway: FakeGateway) -> None:
    when = datetime(2030, 1, 2, tzinfo=UTC)
    plan = client.retention_plan(as_of=when, limit=10)
    req = sent(fake_gateway, "PlanRetention")
    assert (req.project, req.limit, req.as_of.seconds) == ("demo", 10, int(when.timestamp()))
    assert (plan.total_deletions, plan.protected_versions, plan.deletions[0].reasons) == (3, 1, ("ttl 1h passed",))
    assert json.loads(json.dumps(plan.to_dict()))["deletions"][0]["reasons"] == ["ttl 1h passed"]
    with pytest.raises(arkive.InvalidArgument):
        client.retention_plan(limit=6000)
    client.retention_plan("p2")
    assert not sent(fake_gateway, "PlanRetention").HasField("as_of")

    applied = client.retention_apply("p2")
    assert (applied.project, applied.deleted, applied.skipped[0].reason) == ("p2", 3, "held by alias production")

    gc = client.collect_garbage(dry_run=True)
    req = sent(fake_gateway, "CollectGarbage")
    assert (req.grace_seconds, req.dry_run, list(req.digests), req.confirm) == (86_400.0, True, [], False)
    assert (gc.dry_run, gc.blobs_deleted, gc.bytes_freed) == (True, 0, 300)
    client.collect_garbage(timedelta(hours=2), digests=["sha256:" + "0" * 64], skip_staging=True)
    req = sent(fake_gateway, "CollectGarbage")
    assert (req.grace_seconds, req.dry_run, req.skip_staging, req.confirm) == (7200.0, False, True, True)
    with pytest.raises(arkive.InvalidArgument):
        client.collect_garbage(digests=["nope"])

    report = client.storage()
    assert sent(fake_gateway, "GetStorageReport").project == ""
    assert (report.project, report.bytes_stored, report.collections[0].referenced_bytes) == ("", 5000, 1200)
    assert client.storage("p2").collections[0].project == "p2"
    json.dumps(report.to_dict())


def test_async_client(fake_gateway: FakeGateway) -> None:
    async def main() -> None:
        async with arkive.AsyncClient(address=fake_gateway.address, project="demo", progress=False) as c:
            assert (await c.delete("m")).deleted[0].version == 2
            await c.set_ttl("m:v0", None)
            assert (await c.retention_plan()).total_deletions == 3
            assert (await c.storage("demo")).reclaimable_blobs == 2

    asyncio.run(main())
    assert sent(fake_gateway, "SetVersionTtl").ttl_seconds == 0


# ---- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def gw_env(fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", fake_gateway.address)
    monkeypatch.delenv("ARKIVE_PROJECT", raising=False)
    return fake_gateway


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # exactly one document


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["rm"], "REF or --collection"),
        (["rm", "m:v1", "--collection", "m"], "REF or --collection"),
        (["rm", "a/b/c"], "invalid ref"),
        (["rm", "--collection", "m:v1"], "without a version"),
        (["undelete"], "REF or --collection"),
        (["ttl"], "required"),
        (["ttl", "set", "m"], "TTL"),
        (["ttl", "set", "m", "3q"], "invalid TTL"),
        (["ttl", "set", "m", "0s"], "invalid TTL"),
        (["ttl", "default", "inherit"], "a duration or never"),
        (["ttl", "default", "--type", "a b", "1d"], "invalid type"),
        (["retention"], "required"),
        (["retention", "policy", "set", "p"], "needs --keep-last"),
        (["retention", "policy", "set", "p", "--keep-best", "2"], "needs --metric"),
        (["retention", "policy", "set", "p", "--keep-last", "-1"], "non-negative"),
        (["retention", "policy", "set", "p", "--keep-last", "1", "--mode", "avg"], "invalid choice"),
        (["retention", "policy", "set", "p", "--max-age", "soon"], "invalid duration"),
        (["retention", "plan", "--as-of", "soonish"], "ISO 8601"),
        (["retention", "plan", "--limit", "9999"], "at most 5000"),
        (["gc", "--grace", "1"], "invalid duration"),
        (["storage", "--project", "no/slash"], "invalid project"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], needle: str
) -> None:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", "127.0.0.1:1")  # must never be contacted
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err


def test_cli_rm_undelete(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    doc = run_json(capsys, "rm", "m:production", "--project", "p", "--delete-aliases")
    assert doc == {
        "ref": "m:production",
        "purge": False,
        "deleted": [{"version_id": "a" * 32, "version": 2}],
        "skipped": [],
    }
    req = sent(gw_env, "DeleteVersion")
    assert (req.ref, req.delete_aliases, req.purge) == ("p/m:production", True, False)
    doc = run_json(capsys, "rm", "--collection", "p/m", "--purge")
    assert (doc["project"], doc["name"], doc["purge"], doc["skipped"][0]["reason"]) == (
        "p",
        "m",
        True,
        "already deleted",
    )
    code, out, _ = run(capsys, "rm", "m:v2")
    assert code == 0 and f"deleted v2 ({'a' * 32}) of m:v2" in out
    doc = run_json(capsys, "undelete", "m:v2")
    assert doc == {"ref": "m:v2", "undeleted": [{"version_id": "a" * 32, "version": 2}]}
    assert sent(gw_env, "UndeleteVersion").ref == "default/m:v2"
    doc = run_json(capsys, "undelete", "--collection", "m", "-p", "q")
    assert (doc["project"], doc["name"]) == ("q", "m")


def test_cli_server_error_is_one_line(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    gw_env.state.fail("DeleteVersion", "FAILED_PRECONDITION")
    code, out, err = run(capsys, "rm", "m:production", "--json")
    assert (code, out) == (1, "")
    assert err == "error: FAILED_PRECONDITION: DeleteVersion failed (simulated)\n"


def test_cli_ttl(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    assert run_json(capsys, "ttl", "set", "m:v1", "30d") == {"ref": "m:v1", "ttl": "30d", "ttl_seconds": 2_592_000}
    assert sent(gw_env, "SetVersionTtl").ttl_seconds == 2_592_000
    assert run_json(capsys, "ttl", "set", "m:v1", "never")["ttl_seconds"] == 0
    assert run_json(capsys, "ttl", "set", "m:v1", "inherit")["ttl_seconds"] == -1
    doc = run_json(capsys, "ttl", "default", "--project", "p", "--type", "model", "12h")
    assert doc == {"project": "p", "type": "model", "ttl": "12h", "ttl_seconds": 43_200}
    req = sent(gw_env, "SetDefaultTtl")
    assert (req.project, req.type, req.ttl_seconds) == ("p", "model", 43_200)
    code, out, _ = run(capsys, "ttl", "default", "never")
    assert code == 0 and out == "default ttl of versions in project default: never\n"
    assert sent(gw_env, "SetDefaultTtl").ttl_seconds == 0


def test_cli_policies_plan_apply(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    doc = run_json(
        capsys,
        "retention",
        "policy",
        "set",
        "best",
        "-p",
        "p",
        "--keep-best",
        "2",
        "--metric",
        "acc",
        "--match",
        "mod*",
        "--type",
        "model",
        "--max-age",
        "90d",
    )
    assert doc == {
        "project": "p",
        "name": "best",
        "type": "model",
        "name_pattern": "mod*",
        "keep_last": 0,
        "keep_best": 2,
        "metric": "acc",
        "mode": "max",
        "manual": False,
        "max_age_seconds": 90 * 86_400,
    }
    code, out, _ = run(capsys, "retention", "policy", "set", "last5", "--keep-last", "5")
    assert code == 0 and "last5: keep last 5" in out
    assert run_json(capsys, "retention", "policy", "rm", "best", "-p", "p") == {
        "project": "p",
        "name": "best",
        "removed": True,
    }
    doc = run_json(capsys, "retention", "policy", "ls")
    assert doc["policies"][0]["name"] == "last2" and doc["default_ttls"] == {"": 86_400, "model": 3600}
    code, out, _ = run(capsys, "retention", "policy", "ls")
    assert "last2: keep last 2" in out and "default ttl of model: 1h" in out

    doc = run_json(capsys, "retention", "plan", "-p", "p", "--as-of", "2030-01-02T00:00:00+00:00", "--limit", "7")
    assert (doc["project"], doc["total_deletions"], doc["protected_versions"]) == ("p", 3, 1)
    assert doc["deletions"][0]["reasons"] == ["ttl 1h passed"]
    req = sent(gw_env, "PlanRetention")
    assert (req.limit, req.as_of.seconds) == (7, int(datetime(2030, 1, 2, tzinfo=UTC).timestamp()))
    code, out, _ = run(capsys, "retention", "plan")
    assert "default/m:v0" in out and "3 versions would be deleted" in out and "2 not listed" in out

    doc = run_json(capsys, "retention", "apply", "-p", "p")
    assert (doc["project"], doc["deleted"], doc["skipped"][0]["reason"]) == ("p", 3, "held by alias production")


def test_cli_gc_and_storage(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    doc = run_json(capsys, "gc", "--dry-run", "--grace", "2h")
    assert (doc["dry_run"], doc["grace_seconds"], doc["bytes_freed"], doc["blobs_deleted"]) == (True, 7200.0, 300, 0)
    req = sent(gw_env, "CollectGarbage")
    assert (req.grace_seconds, req.dry_run, list(req.digests)) == (7200.0, True, [])
    code, out, _ = run(capsys, "gc", "--dry-run")
    assert code == 0 and out.startswith("dry run: 2 of 10 blobs unreferenced")
    assert sent(gw_env, "CollectGarbage").grace_seconds == 86_400.0

    doc = run_json(capsys, "storage", "--project", "p")
    assert doc["project"] == "p" and doc["collections"][0]["referenced_bytes"] == 1200
    assert sent(gw_env, "GetStorageReport").project == "p"
    code, out, _ = run(capsys, "storage")
    assert code == 0 and "demo/m" in out and "every project" in out
    assert sent(gw_env, "GetStorageReport").project == ""
