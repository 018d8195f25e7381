"""Only the small first log, N times (fresh files each run), reporting median and min:
`python -m benchmarks.small_first_log [N]`. A quicker loop than the whole benchmark when tuning
the small-file path."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import arkive
from arkive_stack import Stack, StackConfig

from . import data
from .__main__ import fresh_caches, log, warm_up
from .raw import s3_client
from .scenarios import SMALL_FIRST_LOG_S, settle

KiB = 1024


async def run(n: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="arkive-small-") as tmp:
        work = Path(tmp)
        fresh_caches(work)
        stack = Stack(StackConfig.for_tests(work / "stack"), log=log)
        # A new seed per run: every first log uploads 2,000 blobs the server has never seen.
        specs = [data.Spec(f"small{i}", 2000, 16 * KiB, 0, 16 * KiB, seed=100 + i, in_flight=32) for i in range(n)]
        gen = asyncio.ensure_future(asyncio.to_thread(lambda: [data.generate(s, work / "data") for s in specs]))
        times: list[float] = []
        cpus: list[float] = []
        try:
            await stack.start()
            os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
            datasets = await gen
            async with s3_client(stack.env) as s3:
                async with arkive.AsyncClient(address=stack.gateway_addr, project="bench", progress=False) as client:
                    await warm_up(client, s3, work)
                    for ds in datasets:
                        art = arkive.Artifact(ds.spec.name, type="dataset")
                        await settle()
                        started, cpu = time.perf_counter(), time.process_time()
                        art.add_dir(ds.root)
                        await client.log_artifact(art, project="bench")
                        times.append(time.perf_counter() - started)
                        cpus.append(time.process_time() - cpu)  # less sensitive to load than wall time
                        log(f"{ds.spec.name}: {times[-1]:.3f} s, client CPU {cpus[-1]:.3f} s")
        finally:
            if not gen.done():
                await asyncio.gather(gen, return_exceptions=True)
            await stack.stop()
    return times, cpus


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    times, cpus = asyncio.run(run(n))
    print(
        f"small first log (2,000 x 16 KiB), {n} runs: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s (target <= {SMALL_FIRST_LOG_S} s); "
        f"client CPU median {statistics.median(cpus):.3f} s, min {min(cpus):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
