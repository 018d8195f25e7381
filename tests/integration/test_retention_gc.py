"""Garbage collection: shared blobs survive, unreferenced and staging bytes go after the grace
period, soft-deleted versions keep their bytes for the undelete window, and a client logging
concurrently with repeated sweeps never ends up with a broken version.

Every sweep here is limited to the digests the test created (`digests=`), so sweeps with a grace
of a second never touch other tests' blobs in the shared session stack."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import uuid

import asyncpg
import grpc
import nats
import pytest
from arkive_core.errors import ArkiveError
from support import assert_eventually

from arkive_common import api_retention as ra
from arkive_common.api import Empty, StatBlobs
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_gateway.gc import collect_garbage
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as rpb
from arkive_stack.processes import ManagedProcess

from .rawgrpc import digest_of, unique
from .retention_helpers import RawRetention

GRACE = 1.0
RACE_GRACE = 3.0  # > the client's pauses, with room for a loaded CI machine


@pytest.fixture
async def raw(stack):
    client = RawRetention(stack.gateway_addr)
    yield client
    await client.close()


@pytest.fixture
async def store(blob_store):
    return blob_store


async def gc(
    raw: RawRetention, digests: list[str], grace: float = GRACE, *, staging: bool = True
) -> rpb.CollectGarbageResponse:
    # A scoped staging sweep lists S3 once per digest: only where the test needs it.
    request = rpb.CollectGarbageRequest(grace_seconds=grace, digests=digests, skip_staging=not staging, confirm=True)
    return await raw.retention.CollectGarbage(request)


async def download(raw: RawRetention, digest: str) -> bytes:
    return b"".join([m.chunk async for m in raw.blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=digest))])


async def missing(raw: RawRetention, digests: list[str]) -> set[str]:
    return set((await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=digests))).missing)


async def test_shared_blobs_survive_unreferenced_and_staging_go(raw, store):
    project = unique()
    a, b, shared, orphan = (f"{project} {x}".encode() for x in ("a", "b", "shared", "orphan"))
    v0 = await raw.log(project, "m", {"a": a, "s": shared})
    v1 = await raw.log(project, "m", {"b": b, "s": shared})
    await raw.upload(orphan)  # uploaded, never added to a draft
    # A staging object: an upload whose gateway died before registering it.
    ghost = f"{project} ghost".encode()
    ghost_key = f"blobs/sha256/{digest_of(ghost)[7:9]}/{digest_of(ghost)[7:]}/{uuid.uuid4().hex}"
    await store.put(ghost_key, ghost)
    digests = [digest_of(x) for x in (a, b, shared, orphan, ghost)]
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=v0.version.version_id, purge=True, confirm=True))
    await raw.retention.DeleteVersion(rpb.DeleteVersionRequest(ref=v1.version.version_id))  # soft: undeletable
    fresh = await gc(raw, digests, grace=3600)
    assert fresh.blobs_deleted == 0 and fresh.staging_deleted == 0  # everything is younger than the grace
    await asyncio.sleep(GRACE + 0.2)
    dry = await raw.retention.CollectGarbage(
        rpb.CollectGarbageRequest(grace_seconds=GRACE, digests=digests, dry_run=True)
    )
    assert dry.blobs_unreferenced == 2 and dry.bytes_freed == len(a) + len(orphan)
    result = await gc(raw, digests)
    assert (result.blobs_deleted, result.bytes_freed, result.staging_deleted) == (2, len(a) + len(orphan), 1)
    assert await missing(raw, digests) == {digest_of(a), digest_of(orphan), digest_of(ghost)}
    assert not await store.exists(ghost_key)
    # v1 was only soft-deleted: undelete it and every byte is still there, shared blob included.
    await raw.retention.UndeleteVersion(rpb.UndeleteVersionRequest(ref=v1.version.version_id))
    assert await download(raw, digest_of(b)) == b and await download(raw, digest_of(shared)) == shared
    assert (await gc(raw, digests)).blobs_deleted == 0


async def test_storage_report(raw):
    project = unique()
    await raw.log(project, "m", {"x": b"1" * 100, "y": b"2" * 50})
    await raw.log(project, "m", {"x": b"1" * 100, "z": b"3" * 10})
    report = await raw.retention.GetStorageReport(rpb.GetStorageReportRequest(project=project))
    [c] = report.collections
    assert (c.versions, c.logical_bytes, c.referenced_bytes) == (2, 260, 160)
    assert report.bytes_stored >= 160 and report.blobs_stored >= 3


async def test_race_client_commits_while_gc_runs(raw):
    """Versions reuse blobs that were abandoned (uploaded, never committed) earlier, i.e. exactly the
    blobs GC is deleting; every committed version must stay byte-readable."""
    project = unique()
    rng = random.Random(7)
    contents: dict[str, bytes] = {}
    abandoned: list[bytes] = []
    committed: list[dict[str, bytes]] = []
    refused: list[int] = []
    stop = asyncio.Event()

    def new_blob() -> bytes:
        data = f"{project} {uuid.uuid4().hex}".encode() * rng.randint(1, 50)
        contents[digest_of(data)] = data
        return data

    async def client() -> None:
        for i in range(40):
            if rng.random() < 0.4:  # a client that uploads and crashes before committing
                data = new_blob()
                await raw.upload(data)
                abandoned.append(data)
            files = {f"new{j}": new_blob() for j in range(rng.randint(1, 3))}
            if abandoned and rng.random() < 0.6:
                files["reused"] = rng.choice(abandoned)
            need = await missing(raw, [digest_of(d) for d in files.values()])
            for data in files.values():
                if digest_of(data) in need:
                    await raw.upload(data)
            await asyncio.sleep(rng.uniform(0, 0.3))  # well below the grace period
            try:
                await raw.log(project, f"m{i % 3}", files)
            except grpc.aio.AioRpcError as exc:
                # Only if this machine stalled for longer than the grace between the lease and AddFiles:
                # a clean refusal (never a broken version); a real client uploads again.
                assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "not stored" in exc.details()
                refused.append(i)
                continue
            committed.append(files)
        stop.set()

    async def collector() -> int:
        sweeps = 0
        while not stop.is_set():
            await gc(raw, list(contents), RACE_GRACE, staging=False)
            sweeps += 1
            await asyncio.sleep(0.05)
        return sweeps

    _, sweeps = await asyncio.gather(client(), collector())
    assert sweeps >= 3 and len(refused) <= 4, refused
    for files in committed:
        for data in files.values():
            assert await download(raw, digest_of(data)) == data
    await asyncio.sleep(RACE_GRACE + 0.2)
    await gc(raw, list(contents), RACE_GRACE, staging=False)
    referenced = {digest_of(d) for files in committed for d in files.values()}
    gone = await missing(raw, list(contents))
    assert gone == set(contents) - referenced and gone  # unreferenced bytes did disappear
    assert hashlib.sha256(await download(raw, next(iter(referenced)))).hexdigest()


async def test_hashing_killed_mid_sweep_then_resumes(raw, stack, store):
    """SIGKILL the hashing service while it sweeps 600 blobs in batches of 10, restart it, sweep
    again: the sweep completes, no referenced byte is lost, no unreferenced object is left behind."""
    project = unique()
    kept = {f"f{i}": f"{project} kept {i}".encode() for i in range(30)}
    await raw.log(project, "m", kept)
    junk = [f"{project} junk {i}".encode() for i in range(600)]
    limit = asyncio.Semaphore(32)

    async def up(data: bytes) -> None:
        async with limit:
            await raw.upload(data)

    await asyncio.gather(*(up(d) for d in junk))
    digests = [digest_of(d) for d in [*kept.values(), *junk]]
    nc = await nats.connect(stack.nats_url)
    rpc = RpcClient(nc, "arkive")
    conn = await asyncpg.connect(stack.database_url)
    try:
        keys = {b.digest: b.key for b in (await rpc.call(HASHING.stat, StatBlobs(digests))).blobs}
        junk_digests = [digest_of(d) for d in junk]
        await asyncio.sleep(GRACE + 0.2)
        sweep = asyncio.create_task(
            collect_garbage(
                rpc,
                ra.CollectGarbage(grace_seconds=GRACE, digests=digests, batch_size=10, staging=False),
                step_timeout=20,  # the killed replica never answers its step
            )
        )

        async def remaining() -> int:
            return await conn.fetchval("SELECT count(*) FROM hashing_blobs WHERE digest = ANY($1)", junk_digests)

        await assert_eventually(lambda: remaining_below(remaining, len(junk) - 20), timeout=30, interval=0.01)
        [proc] = [p for p in stack.services if p.name == "hashing"]
        proc.kill_now()
        sweep.cancel()  # its step went to the killed replica: nobody will answer it
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await sweep
        left = await remaining()
        assert 0 < left < len(junk)  # killed mid-sweep
        restarted = ManagedProcess(proc.name, proc.argv, proc.log_path, env=proc.env, stop_timeout=proc.stop_timeout)
        stack.services[stack.services.index(proc)] = restarted
        restarted.start()
        await assert_eventually(lambda: rpc.call(HASHING.ping, Empty(), timeout=1), timeout=30, retry_on=(ArkiveError,))
        result = await collect_garbage(rpc, ra.CollectGarbage(grace_seconds=GRACE, digests=digests, staging=False))
        assert result.blobs_deleted == left
        assert await remaining() == 0
        assert (
            await conn.fetchval("SELECT count(*) FROM hashing_pending_deletes WHERE key = ANY($1)", list(keys.values()))
            == 0
        )
    finally:
        await conn.close()
        await nc.close()
    for data in kept.values():
        assert await download(raw, digest_of(data)) == data
    limit = asyncio.Semaphore(32)

    async def exists(key: str) -> bool:
        async with limit:
            return await store.exists(key)

    leftovers = await asyncio.gather(*(exists(keys[d]) for d in junk_digests))
    assert not any(leftovers)
    assert all(await asyncio.gather(*(exists(keys[digest_of(d)]) for d in kept.values())))


async def remaining_below(count, limit: int) -> bool:
    return await count() < limit
