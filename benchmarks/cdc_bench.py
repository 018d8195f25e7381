"""Chunk dedup benchmark: `python -m benchmarks.cdc_bench [--size-mib 256]`.

Starts a stack, then: the chunker's speed in this process; a raw S3 PUT of the file (baseline); the
first log of a brand-new large file (must stay close to the PUT: the SDK only samples it); how long
the hashing service takes to index its chunks; re-logs after a 1 MiB edit in the middle and after
bytes inserted at the start (bytes sent and time); a download of the edited version, verified.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import asyncpg
import numpy as np
from arkive_core import cdc

import arkive
from arkive.engine import transfer as _transfer
from arkive_stack import Stack, StackConfig

from . import raw

MiB = 1024 * 1024


def log(msg: str) -> None:
    print(f"[cdc-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def chunker_speed(data: bytes) -> tuple[float, float]:
    """(MB/s of cut points only, MB/s of cut points + sha256 per chunk), 4 MiB blocks."""
    blocks = [data[i : i + 4 * MiB] for i in range(0, len(data), 4 * MiB)]
    for _ in cdc.digest_chunks(blocks[:4]):  # warm-up (allocations, page faults)
        pass
    started = time.perf_counter()
    chunker = cdc.Chunker()
    for b in blocks:
        chunker.feed(b)
    chunker.finish()
    cuts = time.perf_counter() - started
    started = time.perf_counter()
    for _ in cdc.digest_chunks(blocks):
        pass
    digests = time.perf_counter() - started
    return len(data) / cuts / 1e6, len(data) / digests / 1e6


async def log_file(client: arkive.AsyncClient, path: Path) -> tuple[float, arkive.ArtifactVersion]:
    started = time.perf_counter()
    art = arkive.Artifact("big", "model")
    art.add_file(path, "big.bin")
    version = await client.log_artifact(art)
    return time.perf_counter() - started, version


async def wait_chunked(db: asyncpg.Connection, digest: str) -> None:
    for _ in range(6000):  # the hashing service chunks it in the background
        if await db.fetchval("SELECT count(*) FROM hashing_blobs WHERE parent = $1", digest):
            return
        await asyncio.sleep(0.1)


async def first_logs(client: arkive.AsyncClient, db: asyncpg.Connection, path: Path, size: int, put: float) -> None:
    """First logs of brand-new files with the SDK's chunk decision and without it (as before chunk
    dedup), alternating, each after the previous file's chunk index is done."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for trial in range(3):
        for decide in (True, False):
            data = np.random.default_rng(1000 + trial * 2 + decide).integers(0, 256, size, dtype=np.uint8).tobytes()
            await asyncio.to_thread(path.write_bytes, data)
            with contextlib.ExitStack() as stack:
                if not decide:
                    stack.enter_context(mock.patch.object(_transfer, "upload_chunked", _whole))
                seconds, version = await log_file(client, path)
            assert version.bytes_uploaded == size
            times[decide].append(seconds)
            await wait_chunked(db, "sha256:" + hashlib.sha256(data).hexdigest())
    for decide, label in ((True, "with the chunk decision"), (False, "without it")):
        med = statistics.median(times[decide])
        print(f"first log of new data {label}: median {med:.2f} s of {times[decide]} ({med / put:.2f} x raw PUT)")


async def _whole(stub, files, address, timeout, progress):  # upload_chunked that never chunks
    return files, 0


async def main(size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="arkive-cdc-bench-") as tmp:
        work = Path(tmp)
        data = bytearray(np.random.default_rng(42).integers(0, 256, size, dtype=np.uint8).tobytes())
        mb_cuts, mb_digests = chunker_speed(bytes(data[: 64 * MiB]))
        print(f"chunker: {mb_cuts:.0f} MB/s cut points, {mb_digests:.0f} MB/s cut points + sha256 (64 MiB, 1 thread)")
        stack = Stack(StackConfig.for_tests(work / "stack"), log=log)
        await stack.start()
        os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
        try:
            async with raw.s3_client(stack.env) as s3:
                await raw.prepare_bucket(s3)
                put = await raw.put_all(s3, ["cdc-bench"], [bytes(data)], 1)
            print(f"raw S3 PUT of {size / MiB:.0f} MiB: {put:.2f} s")
            path = work / "big.bin"
            await asyncio.to_thread(path.write_bytes, data)
            db = await asyncpg.connect(stack.database_url)
            async with arkive.AsyncClient(stack.gateway_addr, project="cdc-bench", progress=False) as client:
                warm = work / "warm"
                warm.write_bytes(b"warm up")
                art = arkive.Artifact("warm")
                art.add_file(warm)
                await client.log_artifact(art)
                seconds, v0 = await log_file(client, path)
                sent = v0.bytes_uploaded / MiB
                print(f"first log: {seconds:.2f} s ({seconds / put:.2f} x raw PUT), sent {sent:.1f} MiB")
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                started = time.perf_counter()
                await wait_chunked(db, digest)
                print(f"server chunk index ready {time.perf_counter() - started:.2f} s after the first log returned")
                data[size // 2 : size // 2 + MiB] = random.Random(7).randbytes(MiB)
                path.write_bytes(data)
                seconds, v1 = await log_file(client, path)
                print(f"1 MiB edit in the middle: re-log {seconds:.2f} s, sent {v1.bytes_uploaded / MiB:.2f} MiB")
                path.write_bytes(b"inserted at the start\n" * 50 + data)
                seconds, v2 = await log_file(client, path)
                print(
                    f"1,100 bytes inserted at the start: re-log {seconds:.2f} s, sent {v2.bytes_uploaded / MiB:.2f} MiB"
                )
                await first_logs(client, db, path, size, put)
                started = time.perf_counter()
                await client.download(v1, work / "dl")
                seconds = time.perf_counter() - started
                ok = (work / "dl" / "big.bin").read_bytes() == bytes(data)
                print(f"download of the edited (composite) version: {seconds:.2f} s, byte-identical: {ok}")
            await db.close()
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    asyncio.run(main(parser.parse_args().size_mib * MiB))
