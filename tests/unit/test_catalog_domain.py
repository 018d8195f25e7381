"""The pure catalogue domain: annotations after commit and registry links, without I/O."""

from __future__ import annotations

from functools import reduce

import pytest
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound
from test_domain import cmd

from arkive_common import api_catalog
from arkive_common.events import (
    AliasAssigned,
    CollectionCreated,
    VersionDescriptionSet,
    VersionLinked,
    VersionMetadataUpdated,
    VersionsDeleted,
    VersionTagsUpdated,
)
from arkive_ingest import domain, domain_catalog


def committed(n: int = 1, **kw) -> domain_catalog.Catalog:
    state = domain_catalog.Catalog()
    for i in range(n):
        c = cmd(version_id=f"id{i}", manifest_digest=f"sha256:m{i}", metadata={"acc": 0.5}, tags=("raw",), **kw)
        state = reduce(domain_catalog.evolve, domain.decide_commit(state.collection, c).events, state)
    return state


def annotate(state, **kw) -> list:
    return domain_catalog.decide_annotate(
        state, domain_catalog.Annotate(version_id="id0", project="demo", name="mnist", now=2.0, **kw)
    )


def test_metadata_tags_and_description_become_one_event_each_and_fold():
    state = committed()
    events = annotate(state, assign={"f1": 0.8}, unset=("acc",), add_tags=("gold",), description="clean")
    assert [type(e) for e in events] == [VersionMetadataUpdated, VersionTagsUpdated, VersionDescriptionSet]
    md = events[0]
    assert (md.assigned, md.unset, md.metadata) == ({"f1": 0.8}, ["acc"], {"f1": 0.8})
    assert (events[1].added, events[1].tags) == (["gold"], ["raw", "gold"])
    after = reduce(domain_catalog.evolve, events, state)
    notes = after.notes["id0"]
    assert (notes.metadata, notes.tags, notes.description) == ({"f1": 0.8}, ("raw", "gold"), "clean")
    assert after.collection.stream_version == state.collection.stream_version + 3
    # The content is untouched: same version, same manifest digest.
    assert after.collection.versions == state.collection.versions


def test_nothing_changes_means_no_events():
    state = committed()
    assert annotate(state, assign={"acc": 0.5}, unset=("nope",), add_tags=("raw",), remove_tags=("x",)) == []
    assert annotate(state, description="") == []


def test_removing_a_tag_and_refusals():
    state = committed()
    [e] = annotate(state, remove_tags=("raw",))
    assert (e.removed, e.tags) == (["raw"], [])
    # Unset first, then set: the way to replace an object wholesale instead of merging into it.
    [e] = annotate(state, assign={"acc": {"top1": 0.9}}, unset=("acc",))
    assert e.metadata == {"acc": {"top1": 0.9}}
    with pytest.raises(InvalidArgument, match="given twice"):
        annotate(state, assign={"m": {"x": 1}, "m.x": 2})
    with pytest.raises(InvalidArgument):
        annotate(state, add_tags=("t",), remove_tags=("t",))
    with pytest.raises(InvalidArgument):
        annotate(state, assign={"blob": "x" * 70_000})
    with pytest.raises(InvalidArgument):
        annotate(state, add_tags=tuple(f"t{i}" for i in range(64)))
    with pytest.raises(NotFound):
        domain_catalog.decide_annotate(state, domain_catalog.Annotate("nope", "demo", "mnist", description="x"))


def test_deleted_version_is_refused():
    state = committed(2)
    gone = VersionsDeleted(project="demo", name="mnist", version_ids=["id0"], versions=[0], deleted_at=3.0)
    state = domain_catalog.evolve(state, gone)
    with pytest.raises(FailedPrecondition, match="deleted"):
        annotate(state, add_tags=("x",))


def source(i: int, type: str = "model") -> domain_catalog.Source:
    return domain_catalog.Source(f"src{i}", "team", "resnet", i, type, f"sha256:s{i}")


def link(state, i, aliases=(), **kw):
    d = domain_catalog.decide_link(
        state, source(i, **kw), project="registry", name="zoo", aliases=tuple(aliases), now=1.0
    )
    return reduce(domain_catalog.evolve, d.events, state), d


def test_links_number_themselves_latest_follows_the_newest_and_aliases_move():
    state, d = link(domain_catalog.Catalog(), 0, ["production"])
    assert [type(e) for e in d.events] == [CollectionCreated, VersionLinked, AliasAssigned, AliasAssigned]
    assert (d.number, d.created) == (0, True)
    state, d = link(state, 1)
    assert d.number == 1 and state.collection.aliases == {"latest": "src1", "production": "src0"}
    state, d = link(state, 1, ["production"])  # relinking: no new link, the alias moves
    assert (d.number, d.created, [type(e) for e in d.events]) == (1, False, [AliasAssigned])
    assert state.collection.aliases["production"] == "src1"
    assert state.collection.links == 2


def test_link_refusals():
    state, _ = link(domain_catalog.Catalog(), 0)
    with pytest.raises(FailedPrecondition, match="type"):
        link(state, 1, type="dataset")
    with pytest.raises(FailedPrecondition):
        link(state, 1, ["latest"])
    with pytest.raises(FailedPrecondition, match="logged versions"):
        domain_catalog.decide_link(committed(), source(0, "dataset"), project="demo", name="mnist", aliases=(), now=1)
    # ...and a collection of links takes no logged version.
    with pytest.raises(FailedPrecondition, match="collection of links"):
        domain.decide_commit(state.collection, cmd(project="registry", name="zoo", type="model"))


@pytest.mark.parametrize(
    ("text", "key", "op", "value"),
    [
        ("accuracy>0.9", "accuracy", ">", 0.9),
        ("metadata.metrics.f1 >= 1", "metrics.f1", ">=", 1),
        ("framework=sklearn", "framework", "=", "sklearn"),
        ('name != "0.5"', "name", "!=", "0.5"),
        ("ok=true", "ok", "=", True),
    ],
)
def test_predicates_parse(text, key, op, value):
    p = api_catalog.parse_predicate(text)
    assert (p.key, p.op, p.value) == (key, op, value) and type(p.value) is type(value)


@pytest.mark.parametrize(
    "text", ["accuracy", "accuracy>", ">0.9", "a>>1", "a=>1", "a;drop table x>1", "ok>true", "x=NaN", "a..b=1"]
)
def test_bad_predicates_are_invalid_argument(text):
    with pytest.raises(InvalidArgument):
        api_catalog.parse_predicate(text)


def test_search_sql_carries_client_values_only_as_parameters():
    from arkive_ingest import search

    evil = "x' OR 1=1 --"
    req = api_catalog.SearchVersions(
        "demo",
        type="model",
        name_pattern="a*_b?",
        tags=["t1"],
        alias="prod",
        metadata=[api_catalog.Predicate("framework", "=", evil), api_catalog.Predicate("acc", ">", 0.9)],
        order_by="-metadata.acc",
    )
    for ids, walk in ((None, 0), (["v1"], 0), (None, 256)):
        sql, params = search.build(req, ids, walk=walk)
        assert evil not in sql and "demo" not in sql and "framework" not in sql
        assert evil in params and "a%\\_b_" in params
    with pytest.raises(InvalidArgument):
        search.build(api_catalog.SearchVersions("demo", order_by="name; drop table events"))
    with pytest.raises(InvalidArgument):
        search.build(api_catalog.SearchVersions("demo", page_token="bm9wZQ"))
