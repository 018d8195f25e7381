"""Incremental versions on a large base (`python -m benchmarks.incremental_bench`).

Logs a base version of N files over raw gRPC (CreateDraft, AddFiles in 5,000-entry calls,
CommitDraft: what any client must send for a full version), then the next version as a draft of
that base: CreateDraft(base_ref) copies the N entries in SQL, RemoveFiles drops a folder (1 % of
the files), AddFiles sends 10 new entries, CommitDraft. Prints the time of each step. Blobs are
100 distinct small ones cycled over the paths: the timings are about entries, not bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import grpc
from arkive_core.credentials import api_key

from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as ag
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import blob_service_pb2_grpc as bg
from arkive_proto.v1 import types_pb2
from arkive_stack import Stack, StackConfig

PROJECT = "bench"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def upload(blobs: bg.BlobServiceStub, data: bytes) -> None:
    async def messages():
        yield bpb.UploadBlobRequest(header=bpb.UploadBlobHeader(digest=digest_of(data), size=len(data)))
        yield bpb.UploadBlobRequest(chunk=data)

    await blobs.UploadBlob(messages())


async def timed(label: str, results: dict[str, float], coro):
    t = time.perf_counter()
    out = await coro
    results[label] = time.perf_counter() - t
    return out


async def add_all(arts: ag.ArtifactServiceStub, draft_id: str, entries: list[types_pb2.FileEntry]) -> None:
    for i in range(0, len(entries), 5000):
        await arts.AddFiles(apb.AddFilesRequest(draft_id=draft_id, files=entries[i : i + 5000]), timeout=600)


async def run(addr: str, n: int) -> dict[str, float]:
    channel = grpc.aio.insecure_channel(addr, interceptors=bearer_interceptors(api_key()))
    arts, blobs = ag.ArtifactServiceStub(channel), bg.BlobServiceStub(channel)
    contents = [f"blob {i}".encode() for i in range(110)]
    for data in contents:
        await upload(blobs, data)
    entries = [
        types_pb2.FileEntry(path=f"shard-{i % 100:02d}/{i:07d}.bin", digest=digest_of(d), size=len(d))
        for i in range(n)
        for d in [contents[i % 100]]
    ]
    r: dict[str, float] = {}
    t0 = time.perf_counter()
    draft = await arts.CreateDraft(apb.CreateDraftRequest(project=PROJECT, name="ds", type="dataset"))
    await timed("full: AddFiles (all entries)", r, add_all(arts, draft.draft_id, entries))
    await timed("full: CommitDraft", r, arts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id), timeout=600))
    r["full: total"] = time.perf_counter() - t0
    await asyncio.sleep(5)  # let the outbox relay publish the base's events first: they are not part of the next log

    t0 = time.perf_counter()
    req = apb.CreateDraftRequest(project=PROJECT, name="ds", base_ref="ds:latest")
    draft = await timed("incremental: CreateDraft(base_ref)", r, arts.CreateDraft(req, timeout=600))
    req_rm = apb.RemoveFilesRequest(draft_id=draft.draft_id, prefixes=["shard-07"])
    removed = await timed("incremental: RemoveFiles(1 prefix)", r, arts.RemoveFiles(req_rm, timeout=600))
    assert removed.removed == len([i for i in range(n) if i % 100 == 7])
    new = [
        types_pb2.FileEntry(path=f"new/{i}.bin", digest=digest_of(d), size=len(d)) for i, d in enumerate(contents[100:])
    ]
    await timed("incremental: AddFiles (10 entries)", r, add_all(arts, draft.draft_id, new))
    done = await timed(
        "incremental: CommitDraft", r, arts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id), timeout=600)
    )
    r["incremental: total"] = time.perf_counter() - t0
    assert done.created and done.version.file_count == n - removed.removed + 10
    await channel.close()
    return r


async def main(n: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="arkive-incremental-bench-"))
    stack = Stack(StackConfig.for_tests(work))
    await stack.start()
    os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
    try:
        results = await run(stack.gateway_addr, n)
    finally:
        await stack.stop()
    print(f"base of {n:,} files")
    for label, seconds in results.items():
        print(f"{label:40} {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    sys.exit(asyncio.run(main(parser.parse_args().files)))
