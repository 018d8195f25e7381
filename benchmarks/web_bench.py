"""Dashboard page latency on a project of 10,000 versions (`python -m benchmarks.web_bench`).

Target (issue 19): pages answer within 100 ms at p95 for a project of 10,000 versions (paged).
A stack of its own with every process (the dashboard is the launcher's own `web` process, reached
over HTTP like a browser, signed in with the stack's admin token). Set-up commits the versions over
the bus, as the gateway does (create_draft +
commit_draft with the file in the commit), spread over --collections collections (default 10 of
1,000: a single collection of 10,000 takes long to build, since each commit replays the
collection's event stream): metadata with an accuracy and an epoch, a tag on every tenth, an alias
on one a collection, and a producer run for some, so that the version page draws a lineage graph.
The timed requests run one after another from one client (latency, not throughput), after a warm-up:
* versions list: the first page, and pages at random depths (the server's keyset cursor);
* version page: a random version (its files, lineage graph, TTL and controls);
* search page: metadata predicate sorted by metadata, a tag, an alias, and a second page.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import nats
from arkive_core.errors import NotFound
from yarl import URL

import arkive
from arkive_common import api
from arkive_common.contracts import HASHING, INGEST
from arkive_common.rpc import RpcClient
from arkive_stack import Stack, StackConfig

PROJECT, NAME = "webbench", "big"
TARGET_MS = 100.0


def log(msg: str) -> None:
    print(f"[web-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def populate(rpc: RpcClient, versions: int, collections: int, run_id: str) -> None:
    """One lane of commits per collection (lanes of one collection would only conflict and retry)."""
    blob = "sha256:" + hashlib.sha256(b"web-bench").hexdigest()
    await rpc.call(HASHING.register, api.RegisterBlob(blob, 1, "blobs/none"))
    rng = random.Random(3)
    per = versions // collections

    async def lane(name: str) -> None:
        for i in range(per):
            draft = await rpc.call(INGEST.create_draft, api.CreateDraft(PROJECT, name, "model"))
            meta = {"accuracy": round(rng.random(), 4), "epoch": i, "framework": rng.choice(["torch", "sklearn"])}
            commit = api.CommitDraft(
                draft.draft_id,
                metadata=meta,
                description=f"checkpoint {i}",
                tags=["gold"] if i % 10 == 0 else [],
                aliases=["best"] if i == per // 2 else [],
                run_id=run_id if i % 100 == 0 else "",
                entries=[(f"model-{i}.bin", blob, 1), ("config.json", blob, 1)],
            )
            await rpc.call(INGEST.commit_draft, commit)

    started = time.monotonic()
    await asyncio.gather(*(lane(collection_name(c)) for c in range(collections)))
    log(f"{per * collections:,} versions in {collections} collections committed in {time.monotonic() - started:.0f} s")


def collection_name(c: int) -> str:
    return f"{NAME}-{c}"


async def settled(client: arkive.AsyncClient, per: int, collections: int) -> None:
    """Until the retention and lineage projections know the newest version (the version page asks both)."""
    ref = f"{PROJECT}/{collection_name(collections - 1)}:v{per - 1}"
    while True:
        try:
            await client.ttl(ref)
            await client.lineage(ref, depth=1)
            return
        except NotFound:
            await asyncio.sleep(0.2)


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p * len(s)) - 1))]


async def measure(session: aiohttp.ClientSession, base: str, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        t = time.perf_counter()
        async with session.get(base + path) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{path}: HTTP {resp.status}: {body[-300:]!r}")
        times.append((time.perf_counter() - t) * 1000)
    return times


async def main(versions: int, requests: int, collections: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="arkive-web-bench-"))
    stack = Stack(StackConfig.for_tests(work))
    await stack.start()
    token = stack.env["ARKIVE_API_KEY"]
    os.environ["ARKIVE_API_KEY"] = token  # the SDK authenticates as the stack's admin
    base = f"http://{stack.env['ARKIVE_WEB_ADDR']}"
    per = versions // collections
    big = collection_name(0)
    try:
        nc = await nats.connect(stack.nats_url)
        async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
            async with await client.run(project=PROJECT, name="bench-run", job_type="train") as run:
                await populate(RpcClient(nc, "arkive"), versions, collections, run.run_id)
            await settled(client, per, collections)
        await nc.close()
        rng = random.Random(11)
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies({"arkive_token": token}, URL(base))
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            # the second search page's cursor, as a browser would follow it
            async with session.get(f"{base}/search?project={PROJECT}&where=accuracy%3E0.5") as resp:
                html = await resp.text()
            second = html.split("next page")[0].rsplit("href='", 1)[1].split("'")[0].replace("&amp;", "&")
            pages = {
                "versions list, first page": lambda: f"/p/{PROJECT}/{big}",
                "versions list, random depth": lambda: f"/p/{PROJECT}/{big}?after={rng.randrange(1, per)}",
                "version page, random version": lambda: (
                    f"/v/{PROJECT}/{collection_name(rng.randrange(collections))}/v{rng.randrange(per)}"
                ),
                "search: accuracy>x, best first": lambda: (
                    f"/search?project={PROJECT}&where=accuracy%3E{rng.choice([0.5, 0.9, 0.99])}"
                    "&order_by=-metadata.accuracy"
                ),
                "search: tag gold": lambda: f"/search?project={PROJECT}&tags=gold",
                "search: alias best, name glob": lambda: f"/search?project={PROJECT}&alias=best&name=b*",
                "search: second page": lambda: second,
            }
            for make in pages.values():  # warm-up: connections, caches, the gateway's token check
                await measure(session, base, [make() for _ in range(5)])
            print(f"{per * collections:,} versions in project {PROJECT} ({collections} collections of {per:,}); "
                  f"{requests} sequential requests a page; target p95 < {TARGET_MS:.0f} ms")  # fmt: skip
            print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  verdict")
            failed = 0
            for label, make in pages.items():
                ts = await measure(session, base, [make() for _ in range(requests)])
                p95 = percentile(ts, 0.95)
                ok = p95 < TARGET_MS
                failed += not ok
                verdict = "ok" if ok else "OVER"
                print(f"{label:34} {statistics.median(ts):8.1f} {p95:8.1f} {max(ts):8.1f}  {verdict}")
    finally:
        await stack.stop()
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--collections",
        type=int,
        default=10,
        help="collections the versions are spread over (1: one collection of them all; its set-up is "
        "slow: each commit replays the collection's event stream, so its cost grows with its length)",
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.versions, args.requests, args.collections)))
