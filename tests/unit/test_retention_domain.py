"""Pure decisions of deletion/undeletion (ingest) and retention planning (retention)."""

from __future__ import annotations

from functools import reduce

import pytest
from arkive_core.errors import FailedPrecondition
from test_domain import cmd, run

from arkive_common import api_retention as ra
from arkive_common.events import AliasAssigned, AliasRemoved, VersionsDeleted, VersionsUndeleted
from arkive_ingest import domain, domain_deletion
from arkive_retention import policies


def collection(n: int, aliases: dict[int, tuple[str, ...]] | None = None) -> domain.Collection:
    state = domain.Collection()
    for i in range(n):
        state, _ = run(
            state,
            cmd(version_id=f"id{i}", manifest_digest=f"sha256:m{i}", aliases=(aliases or {}).get(i, ()), now=float(i)),
        )
    return state


def delete(state, ids, **kw):
    args = dict(project="demo", name="mnist", delete_aliases=False, skip_protected=False, reason="user", now=100.0)
    args.update(kw)
    return domain_deletion.decide_delete(state, ids, **args)


def test_deleting_latest_moves_latest_back_and_undelete_moves_it_forward():
    state = collection(3)
    d = delete(state, ["id2"])
    assert [type(e) for e in d.events] == [VersionsDeleted, AliasAssigned]
    assert d.events[1].alias == "latest" and d.events[1].version_id == "id1"
    state = reduce(domain.evolve, d.events, state)
    assert state.aliases["latest"] == "id1"
    assert delete(state, ["id2"]).events == []  # deleting again changes nothing
    u = domain_deletion.decide_undelete(state, ["id2"], project="demo", name="mnist", now=150.0, grace=100.0)
    assert [type(e) for e in u.events] == [VersionsUndeleted, AliasAssigned]
    assert reduce(domain.evolve, u.events, state).aliases["latest"] == "id2"


def test_aliased_versions_are_refused_skipped_or_lose_their_aliases():
    state = collection(2, {0: ("production",)})
    with pytest.raises(FailedPrecondition, match="production"):
        delete(state, ["id0"])
    assert [s[1] for s in delete(state, ["id0"], skip_protected=True).skipped] == ["held by alias production"]
    d = delete(state, ["id0"], delete_aliases=True)
    assert isinstance(d.events[0], AliasRemoved) and d.events[0].alias == "production"


def test_whole_collection_removes_latest_and_relog_of_deleted_content_creates_a_new_version():
    state = collection(2)
    d = delete(state, ["id0", "id1"])
    assert isinstance(d.events[-1], AliasRemoved) and d.events[-1].alias == "latest"
    state = reduce(domain.evolve, d.events, state)
    state, decision = run(state, cmd(version_id="new", manifest_digest="sha256:m0"))
    assert decision.created and state.by_id("new").version == 2


def test_undelete_after_grace_or_after_purge_is_refused():
    state = reduce(domain.evolve, delete(collection(1), ["id0"]).events, collection(1))
    with pytest.raises(FailedPrecondition, match="grace"):
        domain_deletion.decide_undelete(state, ["id0"], project="demo", name="mnist", now=1000.0, grace=100.0)
    state = reduce(domain.evolve, delete(state, ["id0"], purge=True).events, state)
    with pytest.raises(FailedPrecondition, match="purged"):
        domain_deletion.decide_undelete(state, ["id0"], project="demo", name="mnist", now=101.0, grace=100.0)


def test_ten_thousand_deletions_are_batched_into_few_events():
    state = domain.Collection()
    for i in range(10_000):
        state = domain.evolve(
            state,
            domain.VersionCommitted(
                version_id=f"v{i}",
                project="p",
                name="n",
                type="t",
                version=i,
                manifest_digest=f"m{i}",
                file_count=1,
                total_size=1,
                draft_id="d",
                created_at=0.0,
            ),
        )
    d = delete(state, [f"v{i}" for i in range(10_000)])
    assert sum(isinstance(e, VersionsDeleted) for e in d.events) == 10


def cand(v: int, *, name="m", created=0.0, metadata=None, aliases=(), ttl=-1, type="model") -> policies.Candidate:
    return policies.Candidate("p", name, type, f"id{v}", v, created, metadata or {}, aliases, ttl)


def test_keep_last_and_alias_protection():
    cands = [cand(i, aliases=("production",) if i == 0 else ()) for i in range(5)]
    plan = policies.plan(cands, [ra.Policy(project="p", name="last2", keep_last=2)], {}, now=10.0)
    assert [d.version for d in plan.deletions] == [1, 2]
    assert plan.protected == 1
    assert plan.deletions[0].reasons == ["policy last2: not among the 2 newest"]


def test_keep_best_by_metric_min_and_max_and_max_age():
    cands = [cand(i, metadata={"m": {"loss": float(i % 3)}}, created=float(i)) for i in range(6)]
    best = ra.Policy(project="p", name="b", keep_best=2, metric="m.loss", mode="min")
    assert [d.version for d in policies.plan(cands, [best], {}, 10.0).deletions] == [1, 2, 4, 5]
    aged = ra.Policy(project="p", name="b", keep_best=2, metric="m.loss", mode="max", max_age_seconds=7)
    # kept: best by max are v5 (2.0) and v2 (2.0); only versions older than 7 s (created <= 2 at now=10) go
    assert [d.version for d in policies.plan(cands, [aged], {}, 10.0).deletions] == [0, 1]


def test_ttl_own_default_and_never_and_keep_rules_win():
    cands = [cand(0, created=0.0), cand(1, created=0.0, ttl=0), cand(2, created=0.0, ttl=5), cand(3, type="data")]
    plan = policies.plan(cands, [], {"model": 50}, now=20.0)
    assert [(d.version, d.reasons) for d in plan.deletions] == [(2, ["ttl 5s passed"])]
    plan = policies.plan(cands, [], {"model": 50, "": 10}, now=60.0)
    assert [d.version for d in plan.deletions] == [0, 2, 3]
    keep = ra.Policy(project="p", name="k", keep_last=1, type="data")
    assert [d.version for d in policies.plan(cands, [keep], {"": 10}, now=60.0).deletions] == [0, 2]


def test_a_plan_says_which_alias_keeps_a_version():
    cands = [cand(i, aliases=("reg/zoo:production",) if i == 0 else ()) for i in range(3)]
    plan = policies.plan(cands, [ra.Policy(project="p", name="last1", keep_last=1)], {}, now=10.0)
    assert [d.version for d in plan.deletions] == [1]
    assert [(k.version, k.aliases, k.reasons) for k in plan.protected_versions] == [
        (0, ["reg/zoo:production"], ["policy last1: not among the 1 newest"])
    ]
