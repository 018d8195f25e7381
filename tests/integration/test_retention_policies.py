"""Policies and TTLs end to end: plan (dry run with reasons) then apply, with an injected clock
(as_of) instead of sleeps; aliases other than latest protect."""

from __future__ import annotations

import json
import time

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import retention_service_pb2 as rpb

from .rawgrpc import unique
from .retention_helpers import RawRetention


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


ACCURACY = [0.5, 0.9, 0.7, 0.95, 0.6, 0.8]


async def log_models(raw: RawRetention, project: str, name: str = "model", **commit) -> list[str]:
    ids = []
    for i, acc in enumerate(ACCURACY):
        meta = json.dumps({"metrics": {"accuracy": acc}})
        reply = await raw.log(project, name, {"w": f"{project} {name} {i}".encode()}, metadata_json=meta, **commit)
        ids.append(reply.version.version_id)
    return ids


async def live_versions(raw: RawRetention, project: str, name: str = "model") -> list[int]:
    page = await raw.artifacts.ListVersions(apb.ListVersionsRequest(project=project, name=name))
    return sorted(v.version for v in page.versions)


async def planned(raw: RawRetention, project: str, expected: int, as_of: float = 0.0) -> rpb.PlanRetentionResponse:
    """The retention projection follows the log through the bus: wait until it saw everything."""
    req = rpb.PlanRetentionRequest(project=project)
    if as_of:
        req.as_of.CopyFrom(Timestamp(seconds=int(as_of)))

    async def check():
        plan = await raw.retention.PlanRetention(req)
        assert len(plan.deletions) == expected, plan
        return plan

    return await assert_eventually(check)


async def test_keep_last_n_with_alias_protection(raw):
    project = unique()
    ids = await log_models(raw, project)
    await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=ids[0], aliases=["production"]))
    await raw.retention.PutPolicy(
        rpb.PutPolicyRequest(policy=rpb.RetentionPolicy(project=project, name="last2", keep_last=2))
    )
    plan = await planned(raw, project, 3)
    assert [d.version for d in plan.deletions] == [1, 2, 3]
    assert plan.deletions[0].reasons == ["policy last2: not among the 2 newest"]
    assert plan.protected_versions == 1
    assert await live_versions(raw, project) == [0, 1, 2, 3, 4, 5]  # a plan deletes nothing
    applied = await raw.retention.ApplyRetention(rpb.ApplyRetentionRequest(project=project))
    assert applied.deleted == 3
    assert await live_versions(raw, project) == [0, 4, 5]
    await planned(raw, project, 0)  # idempotent: nothing left to do once the deletions arrived
    listed = await raw.retention.ListPolicies(rpb.ListPoliciesRequest(project=project))
    assert [(p.name, p.keep_last) for p in listed.policies] == [("last2", 2)]


async def test_keep_best_n_by_metric(raw):
    project = unique()
    await log_models(raw, project)
    await log_models(raw, project, name="other-thing")
    policy = rpb.RetentionPolicy(
        project=project, name="best", keep_best=2, metric="metrics.accuracy", mode="max", name_pattern="mod*"
    )
    await raw.retention.PutPolicy(rpb.PutPolicyRequest(policy=policy))
    plan = await planned(raw, project, 4)
    assert {d.name for d in plan.deletions} == {"model"}
    await raw.retention.ApplyRetention(rpb.ApplyRetentionRequest(project=project))
    assert await live_versions(raw, project) == [1, 3]  # 0.9 and 0.95
    assert await live_versions(raw, project, "other-thing") == [0, 1, 2, 3, 4, 5]


async def test_ttl_expiry_with_injected_clock(raw):
    project = unique()
    ids = await log_models(raw, project)
    await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=ids[1], aliases=["production"]))
    await raw.retention.SetDefaultTtl(rpb.SetDefaultTtlRequest(project=project, type="dataset", ttl_seconds=3600))
    await raw.retention.SetVersionTtl(rpb.SetVersionTtlRequest(ref=ids[2], ttl_seconds=0))  # never
    await raw.retention.SetVersionTtl(rpb.SetVersionTtlRequest(ref=ids[3], ttl_seconds=7200))
    await planned(raw, project, 0)  # nothing expired yet
    plan = await planned(raw, project, 3, as_of=time.time() + 3700)
    assert [d.version for d in plan.deletions] == [0, 4, 5]
    assert plan.deletions[0].reasons == ["ttl 1h passed"]
    applied = await raw.retention.ApplyRetention(
        rpb.ApplyRetentionRequest(project=project, as_of=Timestamp(seconds=int(time.time() + 7300)))
    )
    assert applied.deleted == 4  # v3's own 2 h passed too; v1 (production) and v2 (never) stay
    assert await live_versions(raw, project) == [1, 2]
