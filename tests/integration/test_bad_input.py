"""Bad input through the gRPC API gets INVALID_ARGUMENT naming the field, and nothing is written.

Metadata that JSON allows but the stack cannot keep (NaN, Infinity, 1e400, 10**30, 20,000 levels
of nesting, NUL), a 1 MiB description, and bytes that are not a protobuf message at all, sent
against the real stack; the event log is read after each refusal to check nothing was appended.
"""

from __future__ import annotations

import json
import math

import asyncpg
import grpc
import pytest

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cg
from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lg
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import retention_service_pb2_grpc as rg

from .rawgrpc import Raw, unique
from .retention_helpers import code_of

INVALID = grpc.StatusCode.INVALID_ARGUMENT
# (metadata JSON text, words the refusal must hold besides the field's name)
BAD_METADATA = {
    "nan": ('{"loss": NaN}', "NaN"),
    "infinity": ('{"loss": -Infinity}', "Infinity"),
    "overflow": ('{"loss": 1e400}', "finite"),
    "huge_int": ('{"rows": ' + str(10**30) + "}", "int64"),
    "deep_20000": ('{"a":' + "[" * 20000 + "]" * 20000 + "}", "nested deeper than 32"),
    "deep_40": ('{"a":' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32"),
    "nul": ('{"a": "x\\u0000y"}', "NUL"),
    "nul_key": ('{"a\\u0000": 1}', "NUL"),
    "surrogate": ('{"a": "\\ud800"}', "surrogate"),
    "oversize": (json.dumps({"a": "x" * 70_000}), "65536 bytes"),
    "not_object": ("[1, 2]", "JSON object"),
}


class Client(Raw):
    def __init__(self, addr: str) -> None:
        super().__init__(addr)
        self.catalog = cg.CatalogServiceStub(self.channel)
        self.lineage = lg.LineageServiceStub(self.channel)


@pytest.fixture
async def raw(stack):
    client = Client(stack.gateway_addr)
    yield client
    await client.close()


async def events_on(db: asyncpg.Connection, *streams: str) -> int:
    return await db.fetchval("SELECT count(*) FROM events WHERE stream_id = ANY($1::text[])", list(streams))


async def refused(awaitable, *words: str) -> str:
    code, message = await code_of(awaitable)
    assert code == INVALID, (code, message)
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.mark.parametrize("case", list(BAD_METADATA))
async def test_commit_with_bad_metadata_is_refused_and_writes_nothing(raw, db, case):
    text, words = BAD_METADATA[case]
    project = unique()
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    streams = (f"collection-{project}/ds", f"draft-{draft.draft_id}")
    before = await events_on(db, *streams)
    commit = apb.CommitDraftRequest(draft_id=draft.draft_id, metadata_json=text)
    await refused(raw.artifacts.CommitDraft(commit), "metadata", words)
    assert await events_on(db, *streams) == before
    # The draft is untouched: the same commit with good metadata still works.
    ok = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, metadata_json='{"a": 1}'))
    assert json.loads(ok.version.metadata_json) == {"a": 1}


@pytest.mark.parametrize("case", list(BAD_METADATA))
async def test_update_version_with_bad_metadata_is_refused_and_writes_nothing(raw, db, case):
    text, words = BAD_METADATA[case]
    project = unique()
    await raw.log(project, "ds", {"a.csv": project.encode()}, metadata_json='{"rows": 1}')
    before = await events_on(db, f"collection-{project}/ds")
    update = cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", set_metadata_json=text)
    await refused(raw.catalog.UpdateVersion(update), "metadata", words)
    assert await events_on(db, f"collection-{project}/ds") == before
    version = (await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/ds:v0"))).version
    assert json.loads(version.metadata_json) == {"rows": 1}


@pytest.mark.parametrize("case", ["nan", "huge_int", "deep_20000", "nul"])
async def test_run_config_with_bad_values_is_refused(raw, db, case):
    text, words = BAD_METADATA[case]
    project = unique()
    await refused(raw.lineage.StartRun(lpb.StartRunRequest(project=project, config_json=text)), "config", words)
    assert (
        await db.fetchval("SELECT count(*) FROM events WHERE position(convert_to($1, 'UTF8') in data) > 0", project)
        == 0
    )


async def test_accepted_extremes_survive_the_round_trip(raw):
    """What the limits allow is kept exactly: int64 bounds, the largest double, 32 levels. (jsonb
    prints 1e20 as 100000000000000000000: read back as an int, it broke every reply holding it.)"""
    project = unique()
    nested: object = 1
    for _ in range(31):
        nested = [nested]
    metadata = {
        "max": 2**63 - 1,
        "min": -(2**63),
        "big": 1.7976931348623157e308,
        "1e20": 1e20,
        "deep": nested,
        "é": "ü",
    }
    reply = await raw.log(project, "ds", {"a.csv": b"x"}, metadata_json=json.dumps(metadata))
    assert json.loads(reply.version.metadata_json) == metadata


BAD_DESCRIPTIONS = {
    "one_mib": ("x" * (1 << 20), "longer than 4096 characters"),
    "nul": ("before\x00after", "NUL"),
}


@pytest.mark.parametrize("case", list(BAD_DESCRIPTIONS))
async def test_bad_description_is_refused_at_commit_and_update(raw, db, case):
    text, words = BAD_DESCRIPTIONS[case]
    project = unique()
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
    streams = (f"collection-{project}/ds", f"draft-{draft.draft_id}")
    before = await events_on(db, *streams)
    message = await refused(
        raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, description=text)),
        "description",
        words,
    )
    assert "nats" not in message
    assert await events_on(db, *streams) == before
    await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, description="fine"))
    before = await events_on(db, *streams)
    update = cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", description=text)
    await refused(raw.catalog.UpdateVersion(update), "description", words)
    assert await events_on(db, *streams) == before


async def test_bad_tags_aliases_label_and_keys_are_refused_before_files_are_added(raw, db):
    project = unique()
    cases = [
        ({"tags": [f"t{i}" for i in range(65)]}, "too many tags: 65 > 64"),
        ({"aliases": [f"a{i}" for i in range(33)]}, "too many aliases: 33 > 32"),
        ({"label": "v3"}, "version label"),
        ({"tags": ["bad tag"]}, "invalid tag"),
    ]
    for fields, words in cases:
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="ds", type="dataset"))
        streams = (f"collection-{project}/ds", f"draft-{draft.draft_id}")
        before = await events_on(db, *streams)
        await refused(raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, **fields)), words)
        assert await events_on(db, *streams) == before
    await raw.log(project, "ds", {"a.csv": b"x"})
    update = cpb.UpdateVersionRequest(ref=f"{project}/ds:v0", unset_metadata_keys=["a\x00b"])
    await refused(raw.catalog.UpdateVersion(update), "unset_metadata_keys", "NUL")
    run = lpb.StartRunRequest(project=project, job_type="x" * 2000)
    await refused(raw.lineage.StartRun(run), "job_type", "longer than 1024")


async def test_requests_larger_than_a_bus_message_cross_it_and_bad_values_are_refused(raw):
    """A request whose fields are each valid but that does not fit one NATS message crosses the bus
    in parts (it used to be refused; before that it ended as "nats: maximum payload exceeded")."""
    retention = rg.RetentionServiceStub(raw.channel)
    digests = [f"sha256:{i:064x}" for i in range(20_000)]  # 1.5 MB on the bus
    dry = await retention.CollectGarbage(rpb.CollectGarbageRequest(digests=digests, dry_run=True))
    assert dry.blobs_deleted == 0  # none of these made-up digests is stored: nothing to sweep
    for value in (math.nan, math.inf, -1.0):
        bad = rpb.CollectGarbageRequest(grace_seconds=value, dry_run=True)
        await refused(retention.CollectGarbage(bad), "grace_seconds")
    search = cpb.SearchVersionsRequest(project=unique(), metadata_filters=[f"k{i}>1" for i in range(17)])
    await refused(raw.catalog.SearchVersions(search), "at most 16 metadata_filters")


async def test_nul_in_search_filters_and_policies_is_refused_naming_the_field(raw):
    project = unique()
    search = cpb.SearchVersionsRequest(project=project, metadata_filters=["framework=sk\x00learn"])
    await refused(raw.catalog.SearchVersions(search), "metadata filter on framework", "NUL")
    retention = rg.RetentionServiceStub(raw.channel)
    policy = rpb.RetentionPolicy(project=project, name="p", name_pattern="a\x00*", keep_last=1)
    await refused(retention.PutPolicy(rpb.PutPolicyRequest(policy=policy)), "policy.name_pattern", "NUL")
