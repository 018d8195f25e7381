"""Dropping and replaying every projection from the event log gives the same read models."""

from __future__ import annotations

import asyncpg
from support import assert_eventually

from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lg
from arkive_proto.v1 import reference_service_pb2 as refpb
from arkive_proto.v1 import reference_service_pb2_grpc as refg

from .rawgrpc import Raw, unique

# Collection events a consumer has processed (after an earlier rebuild, lineage's records include
# its run events too, so counting all its records would overshoot).
PROCESSED_COLLECTION_EVENTS = (
    "SELECT count(*) FROM processed_events p JOIN events e ON e.id = p.event_id"
    " WHERE p.consumer = $1 AND e.stream_id LIKE 'collection-%'"
)

TABLES = {
    "ingest_collections": "project, name",
    "ingest_versions": "version_id",
    "ingest_aliases": "project, name, alias",
    "ingest_drafts": "draft_id",
    "ingest_draft_entries": "draft_id, path",
    "ingest_manifest_entries": "manifest_digest, path",
    "ingest_version_metrics": "version_id, key",
    "ingest_links": "project, name, version",
    "ingest_draft_references": "draft_id, path",
    "ingest_manifest_references": "manifest_digest, path",
    "hashing_blobs": "digest",
    "hashing_recipes": "digest, seq",
    "hashing_packs": "key",
    "lineage_nodes": "node_id",
    "lineage_edges": "source, target, kind",
    "lineage_cache": "project, cache_key, run_id",
    "retention_versions": "version_id",
    "retention_aliases": "project, name, alias",
}


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[tuple]]:
    tables = {t: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY {key}")] for t, key in TABLES.items()}
    # last_heartbeat is soft state refreshed by heartbeats (documented), not derived from events.
    runs = await conn.fetch("SELECT * FROM lineage_runs ORDER BY run_id")
    tables["lineage_runs"] = [tuple(v for k, v in r.items() if k != "last_heartbeat") for r in runs]
    return tables


async def test_rebuilt_read_models_equal_the_live_ones(stack):
    raw = Raw(stack.gateway_addr)
    conn = await asyncpg.connect(stack.database_url)
    try:
        project = unique()
        for i in range(3):
            await raw.log(project, "ds", {"a": f"{i}{project}".encode(), "b/c": b"shared"}, aliases=["best"])
        lineage = lg.LineageServiceStub(raw.channel)
        run = (await lineage.StartRun(lpb.StartRunRequest(project=project, job_type="train"))).run
        await lineage.UseArtifact(lpb.UseArtifactRequest(run_id=run.run_id, ref=f"{project}/ds:v1"))
        await raw.log(project, "model", {"w": project.encode()}, type="model", label="first", run_id=run.run_id)
        await lineage.FinishRun(lpb.FinishRunRequest(run_id=run.run_id, state=lpb.RUN_STATE_FINISHED))
        await raw.artifacts.AssignAliases(apb.AssignAliasesRequest(ref=f"{project}/ds:v0", aliases=["production"]))
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="open", type="dataset"))
        assert draft.draft_id  # an uncommitted draft is part of the read model too
        # Reference entries (file:// needs no network): one in the open draft, one in a version.
        refs = refg.ReferenceServiceStub(raw.channel)
        spec = refpb.ReferenceSpec(uri="file:///data/x.bin", checksum=True, digest="sha256:" + "0" * 64, size=3)
        await refs.AddReferences(refpb.AddReferencesRequest(draft_id=draft.draft_id, references=[spec]))
        ref_draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="r", type="dataset"))
        await refs.AddReferences(refpb.AddReferencesRequest(draft_id=ref_draft.draft_id, references=[spec]))
        await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=ref_draft.draft_id))

        async def projections_caught_up():
            assert await conn.fetchval("SELECT count(*) FROM lineage_nodes WHERE project = $1", project) == 6
            assert await conn.fetchval("SELECT count(*) FROM retention_versions WHERE project = $1", project) == 5
            # Every collection event (of every test so far) reached both bus consumers: nothing in flight.
            total = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'collection-%'")
            for consumer in ("lineage", "retention"):
                done = await conn.fetchval(PROCESSED_COLLECTION_EVENTS, consumer)
                assert done == total, consumer
            # The chunk index of large blobs (hashing's own consumer) is complete too.
            stored = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'BlobStored'")
            chunker = await conn.fetchval("SELECT count(*) FROM processed_events WHERE consumer = 'hashing-chunker'")
            assert chunker == stored

        await assert_eventually(projections_caught_up, timeout=20)
        aliases = await conn.fetch(
            "SELECT alias, version_id FROM retention_aliases WHERE project = $1 AND name = 'ds' ORDER BY alias", project
        )
        ingest_aliases = await conn.fetch(
            "SELECT alias, version_id FROM ingest_aliases WHERE project = $1 AND name = 'ds' ORDER BY alias", project
        )
        assert [tuple(r) for r in aliases] == [tuple(r) for r in ingest_aliases]
        before = await snapshot(conn)
        reply = await admin_grpc.AdminServiceStub(raw.channel).RebuildProjections(
            admin_pb.RebuildProjectionsRequest(confirm=True)
        )
        replayed = {r.service: r.events_replayed for r in reply.rebuilds}
        assert set(replayed) == {"ingest", "hashing", "lineage", "retention"}
        assert all(n > 0 for n in replayed.values())
        after = await snapshot(conn)
        assert after.keys() == before.keys()
        for table in before:
            assert after[table] == before[table], table
        assert before["lineage_runs"] and before["lineage_edges"]
        assert before["ingest_draft_references"] and before["ingest_manifest_references"]
        again = await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=f"{project}/ds:production"))
        assert again.version.version == 0
    finally:
        await conn.close()
        await raw.close()
