"""The one metadata rule (arkive_common.metadata_paths): keys are paths, updates merge by path."""

from __future__ import annotations

import pytest
from arkive_core.errors import FailedPrecondition, InvalidArgument

from arkive_common.metadata_paths import changed_leaves, expand, merge

BASE = {"metrics": {"acc": 0.5, "loss": 0.9}, "owner": "ml", "tags": [1]}


def test_nested_and_dotted_updates_are_the_same_merge():
    nested = merge(BASE, {"metrics": {"f1": 0.6}}, [])
    dotted = merge(BASE, {"metrics.f1": 0.6}, [])
    assert nested == dotted == {"metrics": {"acc": 0.5, "loss": 0.9, "f1": 0.6}, "owner": "ml", "tags": [1]}
    assert BASE["metrics"] == {"acc": 0.5, "loss": 0.9}  # never changed in place


def test_non_objects_replace_and_unset_comes_first():
    assert merge(BASE, {"tags": [2], "owner": None}, [])["tags"] == [2]
    assert merge(BASE, {"metrics": {"acc": 1}}, ["metrics"])["metrics"] == {"acc": 1}
    assert "loss" not in merge(BASE, {}, ["metrics.loss", "nope.deeper"])["metrics"]


@pytest.mark.parametrize(
    "assign",
    [
        {"metrics": {"acc": 0.5}, "metrics.acc": 0.6},  # the same path twice
        {"metrics": 1, "metrics.acc": 2},  # a value and a key below it
        {"a..b": 1},
        {".a": 1},
    ],
)
def test_ambiguous_keys_are_invalid(assign):
    with pytest.raises(InvalidArgument):
        merge(BASE, assign, [])
    with pytest.raises(InvalidArgument):
        expand(assign)


def test_setting_inside_a_non_object_is_a_failed_precondition():
    with pytest.raises(FailedPrecondition, match="unset 'owner'"):
        merge(BASE, {"owner.name": "x"}, [])
    assert merge(BASE, {"owner.name": "x"}, ["owner"])["owner"] == {"name": "x"}


def test_commit_metadata_expands_dotted_keys_and_legacy_dotted_keys_merge():
    assert expand({"metrics.acc": 0.5, "metrics": {"f1": 1}, "n": 1}) == {"metrics": {"acc": 0.5, "f1": 1}, "n": 1}
    assert merge({"a.b": 1}, {"a": {"c": 2}}, []) == {"a": {"b": 1, "c": 2}}
    with pytest.raises(FailedPrecondition, match="ambiguous"):
        merge({"a": 1, "a.b": 2}, {"x": 1}, [])


def test_changed_leaves_by_dotted_path():
    assert changed_leaves(BASE, {"metrics": {"acc": 0.5, "f1": 1}, "owner": "ml"}) == {"metrics.f1": 1}
    assert changed_leaves({"n": 1}, {"n": 1.0}) == {"n": 1.0}  # JSON tells 1 and 1.0 apart
