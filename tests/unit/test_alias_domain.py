"""Pure decisions of alias management after logging, and of undelete restoring the aliases a
delete removed."""

from __future__ import annotations

from functools import reduce

import pytest
from arkive_core.errors import FailedPrecondition, InvalidArgument
from test_retention_domain import collection, delete

from arkive_common.events import AliasAssigned, AliasRemoved
from arkive_ingest import domain, domain_aliases, domain_deletion


def set_aliases(state, vid, add=(), remove=()):
    return domain_aliases.decide_set_aliases(state, vid, tuple(add), tuple(remove), project="demo", name="mnist")


def fold(state, events):
    return reduce(domain.evolve, events, state)


def test_add_moves_and_remove_only_what_the_version_holds():
    state = collection(2)
    state = fold(state, set_aliases(state, "id0", add=["production", "staging"]))
    assert state.aliases["production"] == "id0" and state.aliases["staging"] == "id0"
    moved = set_aliases(state, "id1", add=["production"], remove=["staging"])
    assert [type(e) for e in moved] == [AliasAssigned]  # id1 does not hold staging: nothing to remove
    assert moved[0].previous_version_id == "id0"
    state = fold(state, moved)
    removed = set_aliases(state, "id0", remove=["staging"])
    assert [(type(e), e.alias, e.with_version) for e in removed] == [(AliasRemoved, "staging", False)]
    state = fold(state, removed)
    assert state.aliases == {"latest": "id1", "production": "id1"}
    assert set_aliases(state, "id1", add=["production"]) == []  # already there: no event


@pytest.mark.parametrize("add, remove", [(["latest"], []), ([], ["latest"]), (["a"], ["a"])])
def test_latest_and_contradictions_are_invalid(add, remove):
    with pytest.raises(InvalidArgument):
        set_aliases(collection(1), "id0", add, remove)


def test_deleted_version_is_refused():
    state = collection(2)
    state = fold(state, delete(state, ["id0"]).events)
    with pytest.raises(FailedPrecondition):
        set_aliases(state, "id0", add=["x"])


def undelete(state, ids):
    return domain_deletion.decide_undelete(state, ids, project="demo", name="mnist", now=150.0, grace=100.0)


def test_undelete_restores_aliases_the_delete_removed_unless_assigned_since():
    state = collection(3)
    state = fold(state, set_aliases(state, "id1", add=["production", "staging", "gone"]))
    state = fold(state, delete(state, ["id1"], delete_aliases=True).events)
    assert set(state.aliases) == {"latest"} and state.stripped["id1"] == ("gone", "production", "staging")
    state = fold(state, set_aliases(state, "id2", add=["production"]))  # moved elsewhere meanwhile
    state = fold(state, set_aliases(state, "id2", add=["gone"]))
    state = fold(state, set_aliases(state, "id2", remove=["gone"]))  # assigned since, even if removed again
    u = undelete(state, ["id1"])
    restored = [(e.alias, e.version_id) for e in u.events if isinstance(e, AliasAssigned)]
    assert restored == [("staging", "id1")]
    state = fold(state, u.events)
    assert state.aliases == {"latest": "id2", "production": "id2", "staging": "id1"}
    assert state.stripped == {}


def test_aliases_removed_by_hand_do_not_come_back_with_an_undelete():
    state = collection(2)
    state = fold(state, set_aliases(state, "id0", add=["staging"]))
    state = fold(state, set_aliases(state, "id0", remove=["staging"]))
    state = fold(state, delete(state, ["id0"]).events)
    assert [e for e in undelete(state, ["id0"]).events if isinstance(e, AliasAssigned)] == []
