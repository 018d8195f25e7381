"""Entry point of `make bench` (python -m benchmarks); see the package docstring."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import arkive
from arkive_stack import Stack, StackConfig

from . import data, raw, report
from .profiling import service_commands, top
from .scenarios import EDIT_MAX_SENT, LARGE_VS_PUT, RELOG_S, SMALL_FIRST_LOG_S, Checks, run_dataset

PROJECT = "bench"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM would kill us without stopping the stack; make it unwind like Ctrl-C."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


async def warm_up(client: arkive.AsyncClient, s3: Any, work: Path) -> None:
    """One tiny log, re-log and download (gRPC channel, NATS RPC paths, Postgres, arkive's bucket)
    and the raw bucket's first write, so that no timed step pays for first-use set-up."""
    src = work / "warm-up" / "src"
    src.mkdir(parents=True)
    (src / "hello.txt").write_bytes(b"hello arkive\n")
    # Also a few hundred small files and a multipart-sized one (other bytes than any dataset): the
    # pack, multipart and commit paths and the S3 server's first volumes are set up here, untimed.
    rng = random.Random(0)
    for i in range(300):
        (src / f"small-{i:03d}").write_bytes(rng.randbytes(16 * 1024))
    (src / "large").write_bytes(rng.randbytes(24 * 1024 * 1024))
    for _ in range(2):
        art = arkive.Artifact("warm-up")
        art.add_dir(src)
        version = await client.log_artifact(art, project="bench-warm-up")
    await client.download(version, work / "warm-up" / "dl")
    await raw.prepare_bucket(s3)


def fresh_caches(work: Path) -> None:
    """The SDK's stat and blob caches in the run's own folder: a user's caches (or an earlier run's,
    with the same seeded data) would otherwise turn hashing and downloads into cache hits."""
    os.environ["ARKIVE_CACHE_DIR"] = str(work / "sdk-cache")


async def run(
    specs: list[data.Spec], prof: Path | None, base: Path | None, repeat: int
) -> tuple[list[report.Row], list[report.Raw], Checks]:
    with tempfile.TemporaryDirectory(prefix="arkive-bench-", dir=base) as tmp:
        work = Path(tmp)
        fresh_caches(work)
        stack = Stack(StackConfig.for_tests(work / "stack"), service_commands=service_commands(prof), log=log)

        def generate() -> list[data.Dataset]:
            return [data.generate(spec, work / "data") for spec in specs]

        log(f"generating {', '.join(f'{s.name} ({s.files} x {report.human(s.size)})' for s in specs)} in {work}")
        gen = asyncio.ensure_future(asyncio.to_thread(generate))  # overlaps the stack's ~5-10 s start
        checks = Checks()
        rows: list[report.Row] = []
        raws: list[report.Raw] = []
        try:
            await stack.start()
            os.environ["ARKIVE_API_KEY"] = stack.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
            log(f"stack up in {stack.started_in:.1f} s; gateway {stack.gateway_addr}")
            datasets = await gen
            async with raw.s3_client(stack.env) as s3:
                client = arkive.AsyncClient(address=stack.gateway_addr, project=PROJECT, progress=False)
                async with client:
                    await warm_up(client, s3, work)
                    for ds in datasets:
                        log(f"dataset {ds.spec.name}: raw limits, then the SDK")
                        r, w = await run_dataset(client, s3, ds, work, PROJECT, checks, prof, repeat)
                        rows += r
                        raws += w
        finally:
            if not gen.done():
                await asyncio.gather(gen, return_exceptions=True)
            log("stopping the stack")
            await stack.stop()
    return rows, raws, checks


def finish(args: argparse.Namespace, specs: list[data.Spec], prof: Path | None, result: Any, elapsed: float) -> int:
    rows, raws, checks = result

    sizes = "; ".join(
        f"{s.name} = {s.files} x {report.human(s.size)} (+{s.extra_files} x {report.human(s.extra_size)})"
        for s in specs
    )
    load = f"load average {args.load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"\narkive benchmark{' (--quick)' if args.quick else ''}: {sizes}; {os.cpu_count()} cores; {load}")
    print()
    print(report.results_table(rows))
    print()
    print(
        f"Raw limits (same run, same SeaweedFS, bucket {raw.RAW_BUCKET}, best of {args.raw_repeat}; "
        "sha256 of in-memory bytes):"
    )
    print(report.raw_table(raws))
    print()
    print(
        f"Targets (issue): small first log <= {SMALL_FIRST_LOG_S} s; unchanged re-log <= {RELOG_S} s with 0 B "
        f"sent; large first log <= {LARGE_VS_PUT} x raw PUT; a 1 MiB edit sends <= {report.human(EDIT_MAX_SENT)}. "
        "PASS/MISS is for orientation only"
        + (" (--quick sizes: targets are for the full sizes)." if args.quick else ".")
    )
    print("Logs are timed from Artifact() + add_dir to the returned version; downloads include use_artifact.")
    for row in rows:
        if "samples" in row.extra:  # the median rows: every sample, first one first
            samples = ", ".join(f"{x:.3f}" for x in row.extra["samples"])
            print(f"{row.dataset} {row.scenario}: the first log above and fresh datasets of its shape: {samples} s.")
    print(
        "bytes sent (SDK) = version.bytes_uploaded; server recv / stored = deltas of GetBlobStats' bytes_received "
        "(verified upload bytes, dropped duplicates included) and bytes_stored (new blobs) around the step."
    )
    print(f"Total benchmark time {elapsed:.0f} s.")
    if prof is not None:
        for path in sorted(prof.glob("*.prof")):
            log(f"profile {path}")
        gateway = prof / "gateway.prof"
        if gateway.exists():
            print("\nGateway main thread, top functions by own time:\n" + top(gateway, 15))
    if args.json:
        meta = {
            "quick": args.quick,
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "elapsed_s": elapsed,
            "load_before": args.load_before,
            "load_after": os.getloadavg()[0],
            "raw_repeat": args.raw_repeat,
            "datasets": [vars(s) for s in specs],
        }
        Path(args.json).write_text(json.dumps(report.to_json(rows, raws, checks.problems, meta), indent=1) + "\n")
        log(f"wrote {args.json}")
    if checks.problems:
        print("\nCORRECTNESS CHECKS FAILED:")
        for p in checks.problems:
            print(f"  - {p}")
        return 1
    print("All correctness checks passed.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller datasets (a smoke run of a few seconds)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the SDK calls and every service into DIR")
    parser.add_argument("--raw-repeat", type=int, default=2, metavar="N", help="raw limits: best of N (default 2)")
    parser.add_argument("--tmp", metavar="DIR", help="parent of the temp dir (default: the system's)")
    args = parser.parse_args(argv)
    if args.raw_repeat < 1:
        parser.error("--raw-repeat must be at least 1")
    specs = data.specs(args.quick)
    prof = Path(args.profile).resolve() if args.profile else None
    base = Path(args.tmp) if args.tmp else None
    started = time.perf_counter()
    args.load_before = os.getloadavg()[0]
    with sigterm_as_interrupt():
        try:
            result = asyncio.run(run(specs, prof, base, args.raw_repeat))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    return finish(args, specs, prof, result, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
