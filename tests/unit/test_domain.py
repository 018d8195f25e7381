"""The pure domain of collections: decide/evolve without any I/O."""

from __future__ import annotations

from dataclasses import replace
from functools import reduce

import pytest
from arkive_core.errors import AlreadyExists, FailedPrecondition

from arkive_common.events import AliasAssigned, CollectionCreated, VersionCommitted
from arkive_ingest import domain


def cmd(**kw) -> domain.CommitVersion:
    base = dict(
        project="demo",
        name="mnist",
        type="dataset",
        version_id="id0",
        draft_id="d0",
        manifest_digest="sha256:m0",
        file_count=1,
        total_size=10,
        metadata={},
        description="",
        aliases=(),
        tags=(),
        label="",
        now=1.0,
    )
    base.update(kw)
    return domain.CommitVersion(**base)


def run(state: domain.Collection, c: domain.CommitVersion) -> tuple[domain.Collection, domain.Decision]:
    decision = domain.decide_commit(state, c)
    return reduce(domain.evolve, decision.events, state), decision


def test_first_commit_creates_collection_v0_and_latest():
    state, d = run(domain.Collection(), cmd(aliases=("best",)))
    kinds = [type(e) for e in d.events]
    assert kinds == [CollectionCreated, VersionCommitted, AliasAssigned, AliasAssigned]
    assert d.created and d.version_id == "id0"
    assert state.versions[0].version == 0
    assert state.aliases == {"latest": "id0", "best": "id0"}
    assert state.stream_version == 4


def test_versions_are_numbered_without_gaps_and_latest_moves():
    state = domain.Collection()
    for n in range(3):
        state, _ = run(state, cmd(version_id=f"id{n}", manifest_digest=f"sha256:m{n}"))
    assert [v.version for v in state.versions] == [0, 1, 2]
    assert state.aliases["latest"] == "id2"


def test_identical_content_returns_existing_version_and_only_moves_requested_aliases():
    state, _ = run(domain.Collection(), cmd())
    state, _ = run(state, cmd(version_id="id1", manifest_digest="sha256:m1"))
    again = domain.decide_commit(state, cmd(version_id="id2", manifest_digest="sha256:m0", aliases=("best",)))
    assert not again.created and again.version_id == "id0"
    assert [(e.alias, e.version_id, e.previous_version_id) for e in again.events] == [("best", "id0", "")]
    unchanged = domain.decide_commit(state, cmd(version_id="id3", manifest_digest="sha256:m1"))
    assert unchanged.events == [] and unchanged.version_id == "id1"


def test_alias_moves_and_records_where_it_was():
    state, _ = run(domain.Collection(), cmd(aliases=("prod",)))
    state, d = run(state, cmd(version_id="id1", manifest_digest="sha256:m1", aliases=("prod",)))
    moved = [e for e in d.events if isinstance(e, AliasAssigned) and e.alias == "prod"]
    assert moved[0].previous_version_id == "id0"
    assert state.aliases["prod"] == "id1"


def test_type_mismatch_is_refused():
    state, _ = run(domain.Collection(), cmd())
    with pytest.raises(FailedPrecondition, match="type 'dataset'"):
        domain.decide_commit(state, cmd(version_id="id1", manifest_digest="sha256:m1", type="model"))


def test_label_is_unique_per_collection():
    state, _ = run(domain.Collection(), cmd(label="raw_2023"))
    with pytest.raises(AlreadyExists, match="raw_2023"):
        domain.decide_commit(state, cmd(version_id="id1", manifest_digest="sha256:m1", label="raw_2023"))


def test_label_cannot_be_added_to_existing_content():
    state, _ = run(domain.Collection(), cmd())
    with pytest.raises(FailedPrecondition, match="label"):
        domain.decide_commit(state, cmd(version_id="id1", label="raw_2023"))
    same, _ = run(domain.Collection(), cmd(label="raw_2023"))
    assert domain.decide_commit(same, cmd(version_id="id9", label="raw_2023")).version_id == "id0"


def test_latest_cannot_be_assigned_by_hand():
    state, _ = run(domain.Collection(), cmd())
    with pytest.raises(FailedPrecondition, match="latest"):
        domain.decide_aliases(state, "id0", ("latest",), "demo", "mnist")
    assert domain.decide_aliases(state, "id0", ("best",), "demo", "mnist")[0].alias == "best"


def test_requested_latest_alias_on_commit_is_not_duplicated():
    _, d = run(domain.Collection(), cmd(aliases=("latest", "best")))
    assert [e.alias for e in d.events if isinstance(e, AliasAssigned)] == ["latest", "best"]


def test_evolve_ignores_unrelated_fields():
    state, _ = run(domain.Collection(), cmd())
    assert replace(state).by_manifest("sha256:m0").version_id == "id0"
    assert state.by_label("") is None
