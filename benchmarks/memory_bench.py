"""Peak memory of a 10 GiB streamed upload and download (`python -m benchmarks.memory_bench`).

Issue target: each process (the client, the gateway and every service) stays within 300 MiB of RSS
(its peak, not only its growth) while a 10 GiB file is logged with log_artifact and downloaded again. The upload is
measured twice: as the SDK sends such a file (a direct PUT to S3, see libs/sdk/arkive/_direct.py)
and streamed through the gateway (what files over 5 GiB, or clients that cannot reach S3, do). Reported, never
enforced as a timing or memory assertion: the exit status only reflects correctness (the download
is byte-identical).

How: before each step every process's peak RSS (VmHWM) is reset with `echo 5 > /proc/PID/clear_refs`
and its VmRSS read; after the step, growth = VmHWM - VmRSS(before). Where the reset is not allowed
(another user's process), a sampler reads VmRSS every 50 ms instead and growth = max - before.
The servers (NATS, PostgreSQL, SeaweedFS) are shown for orientation only.

A file over 5 GiB (the default) always streams through the gateway, so the separate "via gateway"
step only runs for smaller sizes. The files are generated with numpy's PRNG (~1 GB/s; every chunk
distinct, so nothing deduplicates) and need size x 3 of free disk (source, S3, download).

    python -m benchmarks.memory_bench [--size-mib 10240] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import filecmp
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import arkive
from arkive.engine import direct as _direct
from arkive_stack import SERVICES, Stack, StackConfig

MiB = 1 << 20
BUDGET = 300 * MiB
SAMPLE_S = 0.05
OURS = ("client", "gateway", *(s for s in SERVICES if s != "gateway"))


def log(msg: str) -> None:
    print(f"[memory-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Peak RSS growth of each process during one step (see the module docstring)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    async def measure(self, step: Callable[[], Awaitable[object]]) -> dict[str, tuple[int, int, str]]:
        """{name: (rss before, peak growth, how)} in bytes."""
        before = {n: status_kib(p, "VmRSS") * 1024 for n, p in self.pids.items()}
        hwm_ok = {n: reset_peak(p) for n, p in self.pids.items()}
        peak = dict(before)
        done = asyncio.Event()

        def sample_once() -> None:
            for n, p in self.pids.items():
                if not hwm_ok[n]:
                    peak[n] = max(peak[n], status_kib(p, "VmRSS") * 1024)

        async def sampler() -> None:
            while not done.is_set():
                await asyncio.to_thread(sample_once)
                await asyncio.sleep(SAMPLE_S)

        task = asyncio.create_task(sampler())
        try:
            await step()
        finally:
            done.set()
            await task
        out = {}
        for n, p in self.pids.items():
            if hwm_ok[n]:
                out[n] = (before[n], status_kib(p, "VmHWM") * 1024 - before[n], "VmHWM")
            else:
                out[n] = (before[n], peak[n] - before[n], f"VmRSS/{int(SAMPLE_S * 1000)}ms")
        return out


def write_file(path: Path, size: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, 64 * MiB)
            out.write(rng.bytes(n))
            left -= n


def mib(n: int) -> str:
    return f"{n / MiB:.1f}"


def print_table(size: int, results: dict[str, dict[str, tuple[int, int, str]]]) -> None:
    print(f"\narkive memory benchmark: one {size // MiB} MiB file, streamed; {os.cpu_count()} cores")
    print("Peak RSS growth per process (MiB); the peak RSS (before + growth) against the 300 MiB budget (issue);")
    print("servers for orientation:\n")
    steps = list(results)
    header = ["process", "RSS before", *(f"{s} growth" for s in steps), "budget", "result", "measured by"]
    rows = []
    names = list(next(iter(results.values())))
    for n in names:
        growths = [results[s][n][1] for s in steps]
        ours = n in OURS
        peak = results[steps[0]][n][0] + max(growths)
        verdict = (f"{'PASS' if peak < BUDGET else 'MISS'} (peak {mib(peak)})") if ours else "-"
        how = results[steps[0]][n][2]
        rows.append([n, mib(results[steps[0]][n][0]), *(mib(g) for g in growths), "300" if ours else "-", verdict, how])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


async def run(size: int, base: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="arkive-memory-", dir=base) as tmp:
        work = Path(tmp)
        stack = Stack(StackConfig.for_tests(work / "stack"), log=log)
        src = work / "src"
        via_gateway_step = size <= _direct.DIRECT_MAX  # larger files stream through the gateway anyway
        files = [(src / "big.bin", 7)] + ([(work / "s" / "big.bin", 8)] if via_gateway_step else [])
        log(f"writing {len(files)} seeded {size // MiB} MiB file(s) while the stack starts")
        gen = asyncio.ensure_future(asyncio.to_thread(lambda: [write_file(p, size, seed) for p, seed in files]))
        try:
            await stack.start()
            os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
            await gen
            pids = {"client": os.getpid()}
            pids |= {p.name: p.pid for p in stack.processes if p.pid is not None}
            meter = Meter(pids)
            results: dict[str, dict[str, tuple[int, int, str]]] = {}
            async with arkive.AsyncClient(address=stack.gateway_addr, project="memory", progress=False) as client:
                art = arkive.Artifact("warm-up")  # channels, pools and imports, before measuring
                (work / "warm").mkdir()
                (work / "warm" / "a.txt").write_text("hello")
                art.add_dir(work / "warm")
                await client.download(await client.log_artifact(art), work / "warm-dl")
                box: dict[str, arkive.ArtifactVersion] = {}

                async def upload(folder: Path, name: str) -> None:
                    art = arkive.Artifact(name, type="model")
                    art.add_dir(folder)
                    box[name] = await client.log_artifact(art)

                async def streamed() -> None:
                    limit = _direct.DIRECT_MAX
                    _direct.DIRECT_MAX = 0  # as for a file over 5 GiB: every byte through the gateway
                    try:
                        await upload(work / "s", "streamed")
                    finally:
                        _direct.DIRECT_MAX = limit

                started = time.perf_counter()
                results["upload"] = await meter.measure(lambda: upload(src, "big"))
                log(f"upload {time.perf_counter() - started:.1f} s, {box['big'].bytes_uploaded} B sent")
                started = time.perf_counter()
                if via_gateway_step:
                    results["upload via gateway"] = await meter.measure(streamed)
                    log(f"upload via gateway {time.perf_counter() - started:.1f} s")
                box["v"] = box["big"]
                dest = work / "dl"
                started = time.perf_counter()
                results["download"] = await meter.measure(lambda: client.download(box["v"], dest))
                log(f"download {time.perf_counter() - started:.1f} s")
            same = await asyncio.to_thread(filecmp.cmp, src / "big.bin", dest / "big.bin", False)
        finally:
            if not gen.done():
                await asyncio.gather(gen, return_exceptions=True)
            await stack.stop()
    print_table(size, results)
    print("\nDownload byte-identical:", same)
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_bench", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=10240, help="file size (default 10240)")
    parser.add_argument("--tmp", metavar="DIR", help="parent of the temp dir (default: the system's)")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.size_mib * MiB, Path(args.tmp) if args.tmp else None))


if __name__ == "__main__":
    sys.exit(main())
