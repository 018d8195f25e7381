"""The pure registry domain: unlinking (numbers never reused, aliases go with the link, latest
follows the newest remaining link) and link aliases in deletion decisions."""

from __future__ import annotations

from functools import reduce

import pytest
from arkive_core.errors import FailedPrecondition, NotFound

from arkive_common.events import AliasAssigned, AliasRemoved, VersionUnlinked
from arkive_ingest import domain, domain_catalog, domain_deletion, domain_registry


def source(i: int) -> domain_catalog.Source:
    return domain_catalog.Source(f"src{i}", "team", "clf", i, "model", f"sha256:s{i}")


def link(state: domain_catalog.Catalog, i: int, aliases=()) -> domain_catalog.Catalog:
    d = domain_catalog.decide_link(state, source(i), project="reg", name="zoo", aliases=tuple(aliases), now=1.0)
    return reduce(domain_catalog.evolve, d.events, state)


def unlink(state: domain_catalog.Catalog, selector: str):
    d = domain_registry.decide_unlink(state, selector, project="reg", name="zoo", now=2.0)
    return reduce(domain_catalog.evolve, d.events, state), d


def test_unlink_by_alias_removes_its_aliases_and_moves_latest():
    state = link(link(link(domain_catalog.Catalog(), 0), 1, ["production"]), 2)
    state, d = unlink(state, "v2")  # the newest: latest moves back to link 1
    assert [type(e) for e in d.events] == [VersionUnlinked, AliasAssigned]
    assert state.collection.aliases == {"latest": "src1", "production": "src1"}
    state, d = unlink(state, "production")
    assert (d.link.number, d.aliases_removed) == (1, ["production"])
    assert [type(e) for e in d.events] == [AliasRemoved, VersionUnlinked, AliasAssigned]
    assert state.collection.aliases == {"latest": "src0"}
    state, d = unlink(state, "0")
    assert state.collection.aliases == {} and state.links == ()
    assert isinstance(d.events[-1], AliasRemoved) and d.events[-1].alias == "latest"
    relinked = link(state, 1)
    assert [x.number for x in relinked.links] == [3]  # numbers are never reused


def test_unlink_refusals():
    state = link(domain_catalog.Catalog(), 0)
    with pytest.raises(NotFound, match="no link v5"):
        unlink(state, "v5")
    with pytest.raises(NotFound, match="no alias 'staging'"):
        unlink(state, "staging")
    with pytest.raises(NotFound, match="not a collection of links"):
        domain_registry.decide_unlink(domain_catalog.Catalog(), "v0", project="reg", name="zoo", now=1.0)


def test_a_link_alias_protects_its_source_from_deletion():
    info = domain.VersionInfo("src0", 0, "sha256:s0", "")
    state = domain.Collection(exists=True, type="model", versions=(info,), aliases={"latest": "src0"})
    held = {"src0": ["reg/zoo:production"]}
    kw = dict(project="team", name="clf", reason="", now=1.0, linked_aliases=held)
    with pytest.raises(FailedPrecondition, match="reg/zoo:production"):
        domain_deletion.decide_delete(state, ["src0"], delete_aliases=False, skip_protected=False, **kw)
    skipped = domain_deletion.decide_delete(state, ["src0"], delete_aliases=False, skip_protected=True, **kw)
    assert skipped.skipped[0][1] == "held by alias reg/zoo:production" and not skipped.events
    d = domain_deletion.decide_delete(state, ["src0"], delete_aliases=True, skip_protected=False, **kw)
    # The link's alias is removed on the registry's stream (registry_guard), not on this one.
    assert not any(isinstance(e, AliasRemoved) and e.alias == "production" for e in d.events)
    assert [v.version_id for v in d.deleted] == ["src0"]
