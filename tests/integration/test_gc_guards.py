"""Guards around garbage collection (issue 14): destructive admin calls need confirm=true, the grace
has a server-side floor, a draft keeps its blobs, and a blob swept before it was added is refused."""

from __future__ import annotations

import hashlib

import asyncpg
import grpc
import pytest
from arkive_core.errors import InvalidArgument

from arkive_common import api_retention as ra
from arkive_common import blob_locks, eventlog
from arkive_common.events import BlobsDeleted
from arkive_hashing import gc
from arkive_proto.v1 import admin_service_pb2 as admin_pb
from arkive_proto.v1 import admin_service_pb2_grpc as admin_grpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_proto.v1 import types_pb2

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention, code_of


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


@pytest.fixture
async def db(stack):
    conn = await asyncpg.connect(stack.database_url)
    yield conn
    await conn.close()


async def _last_position(db: asyncpg.Connection) -> int:
    return await db.fetchval("SELECT coalesce(max(position), 0) FROM events")


async def _events_since(db: asyncpg.Connection, position: int, project: str, digest: str, *types: str) -> list[str]:
    """The types of the events after `position` that touch this test's project or blob: the stack is
    shared, and other tests (and the retention schedule) delete and sweep meanwhile."""
    touching = []
    while batch := await eventlog.read_all(db, position, 1000):
        for env in batch:
            if env.type not in types:
                continue
            event = env.event()
            if getattr(event, "project", None) == project or (
                isinstance(event, BlobsDeleted) and any(b[0] == digest for b in event.blobs)
            ):
                touching.append(env.type)
        position = batch[-1].position
    return touching


def _sweep(digests: list[str], **fields) -> rpb.CollectGarbageRequest:
    return rpb.CollectGarbageRequest(grace_seconds=0, digests=digests, skip_staging=True, **fields)


async def test_destructive_calls_without_confirm_do_nothing(raw, db):
    project = unique()
    version = (await raw.log(project, "m", {"a.txt": f"{project} kept".encode()})).version
    garbage = f"{project} unreferenced".encode()
    await raw.upload(garbage)
    before = await _last_position(db)

    code, msg = await code_of(raw.retention.CollectGarbage(_sweep([digest_of(garbage)])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "requires confirm=true" in msg
    code, msg = await code_of(raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=version.version_id, purge=True)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "requires confirm=true" in msg
    code, msg = await code_of(
        raw.retention.DeleteCollection(rpb.DeleteCollectionRequest(project=project, name="m", purge=True))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "requires confirm=true" in msg
    code, msg = await code_of(
        admin_grpc.AdminServiceStub(raw.channel).RebuildProjections(admin_pb.RebuildProjectionsRequest())
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "requires confirm=true" in msg

    # Nothing happened: no event was appended, the blob and the version are still there.
    assert (
        await _events_since(db, before, project, digest_of(garbage), "BlobsDeleted", "VersionsDeleted", "AliasRemoved")
        == []
    )
    assert await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE digest = $1", digest_of(garbage)) == 1
    assert (await raw.artifacts.GetVersion(apb.GetVersionRequest(ref=version.version_id))).version.version == 0

    # A dry run needs no confirmation; a soft delete neither (it can be undone).
    dry = await raw.retention.CollectGarbage(_sweep([digest_of(garbage)], dry_run=True))
    assert (dry.blobs_unreferenced, dry.blobs_deleted) == (1, 0)
    # With it, the same calls act.
    swept = await raw.retention.CollectGarbage(_sweep([digest_of(garbage)], confirm=True))
    assert swept.blobs_deleted == 1
    purged = await raw.retention.DeleteVersion(
        rpb.DeleteVersionRequest(ref=version.version_id, purge=True, confirm=True)
    )
    assert [c.version_id for c in purged.deleted] == [version.version_id]
    touched = await _events_since(db, before, project, digest_of(garbage), "BlobsDeleted", "VersionsDeleted")
    assert touched == ["BlobsDeleted", "VersionsDeleted"]


async def test_grace_below_the_floor_is_refused(stack, monkeypatch):
    monkeypatch.delenv("ARKIVE_GC_MIN_GRACE_SECONDS", raising=False)
    assert gc.min_grace() == 3600.0
    monkeypatch.setenv("ARKIVE_GC_MIN_GRACE_SECONDS", "120")
    assert gc.min_grace() == 120.0
    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv("ARKIVE_GC_MIN_GRACE_SECONDS", bad)
        with pytest.raises(ValueError, match="ARKIVE_GC_MIN_GRACE_SECONDS"):
            gc.min_grace()

    # The service's collector with the default floor (the test stack runs with 0): refused before
    # anything is read or deleted, so neither the bus nor S3 is needed here.
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        collector = gc.Collector(pool, None, min_grace=3600.0)  # type: ignore[arg-type]
        absent = digest_of(unique().encode())
        for grace in (0.0, 3599.0):
            with pytest.raises(InvalidArgument) as info:
                await collector.begin(ra.CollectGarbage(grace_seconds=grace, digests=[absent], staging=False))
            assert "below this server's minimum of 3600" in info.value.message
            assert "ARKIVE_GC_MIN_GRACE_SECONDS" in info.value.message and "refused" in info.value.message
        # A dry run deletes nothing, so any grace is allowed.
        dry = ra.CollectGarbage(grace_seconds=0, dry_run=True, digests=[absent])
        with pytest.raises(AttributeError):  # past the grace check: begin ensures the bucket (no store here)
            await collector.begin(dry)
    finally:
        await pool.close()


async def test_an_open_draft_keeps_its_blobs_and_a_swept_blob_is_refused(raw, db):
    project = unique()
    kept, swept = f"{project} in a draft".encode(), f"{project} swept first".encode()
    await raw.upload(kept)
    await raw.upload(swept)
    draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name="m", type="d"))
    entry = types_pb2.FileEntry(path="kept", digest=digest_of(kept), size=len(kept))
    await raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[entry]))

    # Grace 0: only references protect. The draft's blob stays, the other goes.
    r = await raw.retention.CollectGarbage(_sweep([digest_of(kept), digest_of(swept)], confirm=True))
    assert r.blobs_deleted == 1
    assert await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE digest = $1", digest_of(kept)) == 1

    # Adding the swept blob, alone or with the commit, is refused and names it; nothing is committed.
    gone = types_pb2.FileEntry(path="gone", digest=digest_of(swept), size=len(swept))
    code, msg = await code_of(raw.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=[gone])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and digest_of(swept) in msg
    code, msg = await code_of(raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=[gone])))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and digest_of(swept) in msg
    assert await db.fetchval("SELECT count(*) FROM ingest_versions WHERE project = $1", project) == 0

    # Uploaded again, it is accepted; the committed version has both blobs.
    await raw.upload(swept)
    done = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, files=[gone]))
    assert done.version.file_count == 2


def _in_bucket(bucket: int, salt: str) -> str:
    """A digest-shaped string whose lock bucket is `bucket` (the locks only read the first 8 hex digits)."""
    return f"sha256:{bucket:08x}" + hashlib.sha256(salt.encode()).hexdigest()[8:]


async def _try_exclusive(conn: asyncpg.Connection, digests: list[str]) -> bool:
    """Whether a sweep could take these digests' locks now (waits at most 0.2 s)."""
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '200ms'")
            await blob_locks.hold_exclusive(conn, digests)
        return True
    except asyncpg.LockNotAvailableError:
        return False


async def test_blob_locks_order_sweeps_against_small_and_large_adds(stack):
    adder, other, sweeper = [await asyncpg.connect(stack.database_url) for _ in range(3)]
    try:
        small = [_in_bucket(7, "a"), _in_bucket(9, "b")]
        large = [_in_bucket(100 + i, str(i)) for i in range(blob_locks.SPREAD + 1)]
        async with adder.transaction():
            await blob_locks.hold_shared(adder, small)
            assert not await _try_exclusive(sweeper, [small[1]])  # same bucket: the sweep waits
            assert await _try_exclusive(sweeper, [_in_bucket(8, "c")])  # another bucket: it does not
            async with other.transaction():  # adds never block each other, small or large
                await blob_locks.hold_shared(other, large)
            async with other.transaction():
                await blob_locks.hold_shared(other, small)
        assert await _try_exclusive(sweeper, small)  # released at the end of the add's transaction
        async with adder.transaction():
            await blob_locks.hold_shared(adder, large)  # a large add takes the wide lock: every sweep waits
            assert not await _try_exclusive(sweeper, [_in_bucket(4000, "d")])
        async with adder.transaction():
            await blob_locks.hold_shared(adder, None)  # "any digest" (a draft from a base version)
            assert not await _try_exclusive(sweeper, [_in_bucket(1, "e")])
        async with sweeper.transaction():  # a sweep holds bucket 7 (and the wide lock)
            await blob_locks.hold_exclusive(sweeper, [small[0]])
            for digests in ([small[0]], large, None):  # adders do not wait: they back off and retry
                with pytest.raises(blob_locks.BlobsBusy):
                    async with adder.transaction():
                        await blob_locks.hold_shared(adder, digests)
            async with adder.transaction():  # a small add elsewhere goes on
                await blob_locks.hold_shared(adder, [_in_bucket(8, "f")])
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await blob_locks.hold_shared(adder, small)
    finally:
        for conn in (adder, other, sweeper):
            await conn.close()


async def test_an_undelete_takes_turns_with_a_sweep(raw, db, stack):
    """An undelete references a deleted version's blobs again: while a sweep holds blob locks it
    backs off (and is refused once its retries run out) instead of restoring files whose bytes the
    sweep may be freeing; once the sweep is done it goes through."""
    project = unique()
    done = await raw.log(project, "m", {"a": f"{project} undeleted".encode()})
    ref = f"{project}/m:v{done.version.version}"
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=ref))

    sweeper = await asyncpg.connect(stack.database_url)
    try:
        async with sweeper.transaction():
            await blob_locks.hold_exclusive(sweeper, [_in_bucket(3, project)])
            code, _ = await code_of(raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=ref)))
            assert code == grpc.StatusCode.ABORTED
            deleted = "SELECT deleted_at IS NOT NULL FROM ingest_versions WHERE version_id = $1"
            assert await db.fetchval(deleted, done.version.version_id)
    finally:
        await sweeper.close()
    back = await raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=ref))
    assert [v.version for v in back.undeleted] == [done.version.version]
    assert not await db.fetchval(deleted, done.version.version_id)
