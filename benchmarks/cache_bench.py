"""Local blob cache and stat cache, measured: `python -m benchmarks.cache_bench [MiB]`.

Starts a private stack, logs a dataset (one large file + many small ones), then times:
a download from the server (cold cache), the same download into a new folder (cache hits),
a re-log of the unchanged folder with and without the stat cache, and `verify`.
Prints one JSON document. Numbers depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import arkive
from arkive_stack import Stack, StackConfig


def _make_data(root: Path, mib: int) -> None:
    (root / "small").mkdir(parents=True)
    (root / "big.bin").write_bytes(os.urandom(mib * 1024 * 1024))
    for i in range(2000):
        (root / "small" / f"{i:04d}.txt").write_bytes(os.urandom(2048))
    old = time.time() - 60
    for p in root.rglob("*"):
        os.utime(p, (old, old))


def _timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - t, 3), out


async def main(mib: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="arkive-cache-bench-") as tmp:
        base = Path(tmp)
        os.environ["ARKIVE_CACHE_DIR"] = str(base / "cache")
        infra = Stack(StackConfig.for_tests(base / "infra", services=()))
        await infra.start()
        cfg = StackConfig.for_tests(base / "svc", **infra.server_settings())
        svc = Stack(cfg)
        await svc.start()
        os.environ["ARKIVE_API_KEY"] = svc.env["ARKIVE_API_KEY"]  # the SDK authenticates as its admin
        try:
            return await asyncio.to_thread(_scenario, svc.gateway_addr, base, mib)
        finally:
            await svc.stop()
            await infra.stop()


def _scenario(addr: str, base: Path, mib: int) -> dict[str, object]:
    data = base / "data"
    _make_data(data, mib)
    # Settle the racy window (see _statcache.RACY_NS): ctimes are "now" right after writing.
    time.sleep(2.1)
    res: dict[str, object] = {"big_file_mib": mib, "small_files": 2000}
    with arkive.Client(addr, project="bench", progress=False) as c:
        art = arkive.Artifact("ds")
        art.add_dir(data)
        res["first_log_s"], v = _timed(lambda: c.log_artifact(art))
        os.environ["ARKIVE_STAT_CACHE"] = "0"
        res["relog_no_stat_cache_s"], _ = _timed(lambda: c.log_artifact(art))
        del os.environ["ARKIVE_STAT_CACHE"]
        res["relog_stat_cache_s"], _ = _timed(lambda: c.log_artifact(art))
        res["download_cold_s"], r1 = _timed(lambda: c.download(v, base / "d1"))
        res["download_cache_hit_s"], r2 = _timed(lambda: c.download(v, base / "d2"))
        res["bytes_downloaded_cold"], res["bytes_downloaded_hit"] = r1.bytes_downloaded, r2.bytes_downloaded
        os.environ["ARKIVE_CACHE"] = "0"
        res["download_no_cache_s"], _ = _timed(lambda: c.download(v, base / "d3"))
        del os.environ["ARKIVE_CACHE"]
        res["zip_from_cache_s"], _ = _timed(lambda: c.download_zip(v, base / "o.zip"))
        res["verify_with_stat_cache_s"], _ = _timed(lambda: c.verify(v, data))
    return res


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)), indent=2))
