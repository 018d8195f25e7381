"""arkive next to DVC and MLflow in one run (`make bench-peers`, issue 20): 2,000 x 16 KiB and
2 x 128 MiB, each tool's first upload, the same data again unchanged, and a download to an empty
folder, all against the one SeaweedFS S3 server of a stack started here; then the ratio of arkive
to the best peer per cell, and the raw parallel limits (multipart PUT, ranged GET) of the large
files measured in the same run with aiobotocore. DVC and MLflow come from their own virtualenv
(.bench-venv, made by the make target from benchmarks/peers-requirements.txt), never the project's.

    python -m benchmarks.peers [--venv .bench-venv] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from arkive_stack import Stack, StackConfig

from . import data, raw, raw_parallel
from .peers_tools import S3, STEPS, Arkive, Dvc, Mlflow, check_same
from .scenarios import settle

DATASETS = (
    data.Spec("small", 2000, 16 * data.KiB, 0, 0, seed=21, in_flight=32),
    data.Spec("large", 2, 128 * data.MiB, 0, 0, seed=22, in_flight=0),
)
LABELS = {"small": "2,000 x 16 KiB", "large": "2 x 128 MiB"}
BUCKETS = {"DVC": "arkive-peers-dvc", "MLflow": "arkive-peers-mlflow"}
LOAD_BEFORE = [0.0]  # the machine's load average when the run started (other work skews every figure)
Table = dict[tuple[str, str], dict[str, float]]  # (dataset, tool) -> step -> seconds


def log(msg: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def measure_raw(env: dict[str, str], ds: data.Dataset) -> dict[str, tuple[float, str]]:
    blobs = await asyncio.to_thread(ds.read, ds.base)
    async with raw.s3_client(env) as s3:
        await raw.prepare_bucket(s3)
        await settle()
        put = await raw_parallel.best_put(s3, blobs)
        await settle()
        get = await raw_parallel.best_get(s3, blobs)
        single = await raw.put_all(s3, [f"single-{i}" for i in range(len(blobs))], blobs, len(blobs))
    return {"PUT": put, "GET": get, "single": (single, "one PUT per object, all at once")}


async def warm_buckets(env: dict[str, str]) -> None:
    """Each peer's bucket exists and has its volumes before anything is timed (SeaweedFS grows a new
    bucket's volumes on its first write)."""
    async with raw.s3_client(env) as s3:
        for bucket in BUCKETS.values():
            await raw.prepare_bucket(s3, bucket)


async def run_tools(stack: Stack, venv: Path, work: Path, ds: data.Dataset, table: Table) -> None:
    s3 = S3.of(stack.env)
    ark = Arkive(stack.gateway_addr, stack.env["ARKIVE_API_KEY"], work)
    dvc = Dvc(venv, s3, BUCKETS["DVC"], work)
    name, src = ds.spec.name, ds.root
    for tool in (ark, dvc):
        if isinstance(tool, Dvc):
            await asyncio.to_thread(tool.prepare, src, name)
        row = table.setdefault((name, tool.name), {})
        for step in ("first", "again"):
            await settle()
            row[step] = await asyncio.to_thread(tool.upload, src, name)
        await settle()
        dest = work / "out" / f"{tool.name}-{name}"
        row["download"] = await asyncio.to_thread(tool.download, name, dest)
        check_same(src, dest, tool.name)
        log(f"{name} {tool.name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in row.items()))
    await settle()
    dest = work / "out" / f"MLflow-{name}"
    table[(name, "MLflow")] = await asyncio.to_thread(
        Mlflow(venv, s3, BUCKETS["MLflow"], work).all_steps, src, name, dest
    )
    check_same(src, dest, "MLflow")
    log(f"{name} MLflow: " + ", ".join(f"{k} {v:.2f} s" for k, v in table[(name, "MLflow")].items()))


def warm_up_tools(stack: Stack, venv: Path, work: Path) -> None:
    """One tiny dataset through every tool, untimed (imports cached, connections and buckets set up)."""
    tiny = work / "tiny"
    tiny.mkdir()
    (tiny / "a.txt").write_text("warm-up\n")
    s3 = S3.of(stack.env)
    Arkive(stack.gateway_addr, stack.env["ARKIVE_API_KEY"], work).upload(tiny, "warm-up")
    dvc = Dvc(venv, s3, BUCKETS["DVC"], work)
    dvc.prepare(tiny, "warm-up")
    dvc.upload(tiny, "warm-up")
    Mlflow(venv, s3, BUCKETS["MLflow"], work).all_steps(tiny, "warm-up", work / "out" / "MLflow-warm-up")


def print_table(table: Table, raws: dict[str, dict[str, tuple[float, str]]]) -> None:
    load = f"load average {LOAD_BEFORE[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; {load}"
    print(f"\narkive, DVC and MLflow side by side ({time.strftime('%Y-%m-%d')}, {machine}); seconds:\n")
    print("| data | tool | first upload | unchanged again | download to an empty folder |")
    print("|---|---|---|---|---|")
    for spec in DATASETS:
        for i, tool in enumerate(("arkive", "DVC", "MLflow")):
            cells = " | ".join(f"{table[(spec.name, tool)][s]:.2f}" for s in STEPS)
            print(f"| {LABELS[spec.name] if i == 0 else ''} | {tool} | {cells} |")
        ratios = []
        for s in STEPS:
            best = min(table[(spec.name, t)][s] for t in ("DVC", "MLflow"))
            ratios.append(f"{table[(spec.name, 'arkive')][s] / best:.2f}x")
        print(f"| | arkive / best peer | {' | '.join(ratios)} |")
    for name, r in raws.items():
        ark = table[(name, "arkive")]
        print(f"\nRaw limits of {LABELS[name]} (aiobotocore straight to the same S3, best shape, bytes in memory):")
        print(
            f"- parallel multipart PUT of both files at once: {r['PUT'][0]:.2f} s ({r['PUT'][1]});"
            f" arkive's first upload / this = {ark['first'] / r['PUT'][0]:.2f}x"
        )
        print(f"- one PUT per file, both at once: {r['single'][0]:.2f} s")
        print(
            f"- parallel ranged GET of both files at once: {r['GET'][0]:.2f} s ({r['GET'][1]});"
            f" arkive's download / this = {ark['download'] / r['GET'][0]:.2f}x"
        )
    print(
        "\narkive and DVC are timed around their CLI commands (process start included; DVC = add + push);"
        " MLflow around its library calls in one process (Python start and import excluded)."
    )


async def run(venv: Path, base: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="arkive-peers-", dir=base) as tmp:
        work = Path(tmp)
        stack = Stack(StackConfig.for_tests(work / "stack"), log=log)
        log(f"generating the datasets in {work} while the stack starts")
        gen = asyncio.ensure_future(asyncio.to_thread(lambda: [data.generate(s, work / "data") for s in DATASETS]))
        table: Table = {}
        raws: dict[str, dict[str, tuple[float, str]]] = {}
        try:
            await stack.start()
            datasets = await gen
            await warm_buckets(stack.env)
            await asyncio.to_thread(warm_up_tools, stack, venv, work)
            for ds in datasets:
                if ds.spec.name == "large":
                    log("raw parallel limits of the large files")
                    raws[ds.spec.name] = await measure_raw(stack.env, ds)
                log(f"dataset {ds.spec.name}")
                await run_tools(stack, venv, work, ds, table)
        finally:
            if not gen.done():
                await asyncio.gather(gen, return_exceptions=True)
            await stack.stop()
    print_table(table, raws)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--venv", default=".bench-venv", help="the peers' virtualenv (default .bench-venv)")
    parser.add_argument("--tmp", metavar="DIR", help="parent of the temp dir (default: the system's)")
    args = parser.parse_args(argv)
    LOAD_BEFORE[0] = os.getloadavg()[0]
    venv = Path(args.venv).resolve()
    if not (venv / "bin" / "dvc").exists():
        parser.error(f"{venv}/bin/dvc not found: run `make bench-peers`, which installs DVC and MLflow there")
    return asyncio.run(run(venv, Path(args.tmp) if args.tmp else None))


if __name__ == "__main__":
    sys.exit(main())
