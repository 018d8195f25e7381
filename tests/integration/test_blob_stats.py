"""Server byte counters (GetBlobStats) prove dedup across versions and across artifacts: W&B's
example (1,000 images, then the same 1,000 + 100) scaled for test speed, plus a third artifact that
shares 500 of them. Counters are cluster-wide, so the test compares deltas around each step."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import arkive

from .rawgrpc import Raw, unique

ARKIVE = Path(sys.executable).with_name("arkive")


def write_images(root: Path, names: list[str], rng: random.Random) -> int:
    total = 0
    for name in names:
        data = rng.randbytes(rng.randint(2048, 6144))  # a few KiB of "image"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        total += len(data)
    return total


def delta(after: arkive.BlobStats, before: arkive.BlobStats) -> dict[str, int]:
    a, b = after.to_dict(), before.to_dict()
    return {k: a[k] - b[k] for k in a}


async def test_counters_show_dedup_across_versions_and_artifacts(stack, tmp_path):
    project = unique()
    rng = random.Random(project)
    images = tmp_path / "images"
    first = write_images(images, [f"img/{i:04d}.png" for i in range(1000)], rng)
    async with arkive.AsyncClient(address=stack.gateway_addr, project=project, progress=False) as client:
        s0 = await client.blob_stats()
        art = arkive.Artifact("images")
        art.add_dir(images)
        v0 = await client.log_artifact(art)
        s1 = await client.blob_stats()
        d1 = delta(s1, s0)
        assert v0.bytes_uploaded == first and v0.files_uploaded == 1000
        assert d1["blobs_indexed"] == d1["blobs_stored"] == 1000
        assert d1["logical_bytes"] == d1["bytes_stored"] == d1["bytes_received"] == first
        # All members are new, so the pack objects hold exactly the new bytes.
        assert d1["physical_bytes"] == first and d1["physical_objects"] == d1["pack_objects"] >= 1

        extra = write_images(images, [f"img/new-{i:03d}.png" for i in range(100)], rng)
        art = arkive.Artifact("images")
        art.add_dir(images)
        v1 = await client.log_artifact(art)
        s2 = await client.blob_stats()
        d2 = delta(s2, s1)
        assert v1.created and v1.file_count == 1100 and v1.bytes_uploaded == extra
        # Storage grew by the 100 new images, not by 1,100.
        assert d2["blobs_indexed"] == d2["blobs_stored"] == 100
        assert d2["logical_bytes"] == d2["bytes_stored"] == d2["physical_bytes"] == extra
        assert d2["bytes_received"] == v1.bytes_uploaded

        subset = tmp_path / "subset"
        for i in range(0, 1000, 2):
            (subset / f"{i:04d}.png").parent.mkdir(parents=True, exist_ok=True)
            (subset / f"{i:04d}.png").write_bytes((images / f"img/{i:04d}.png").read_bytes())
        art = arkive.Artifact("subset")
        art.add_dir(subset)
        v2 = await client.log_artifact(art)
        s3 = await client.blob_stats()
        assert v2.created and v2.file_count == 500 and v2.bytes_uploaded == 0
        assert all(v == 0 for v in delta(s3, s2).values()), delta(s3, s2)


async def test_a_dropped_duplicate_upload_counts_as_received_not_stored(stack):
    raw = Raw(stack.gateway_addr)
    try:
        data = os.urandom(3000)
        async with arkive.AsyncClient(address=stack.gateway_addr, progress=False) as client:
            s0 = await client.blob_stats()
            assert not (await raw.upload(data)).already_present
            s1 = await client.blob_stats()
            assert (await raw.upload(data)).already_present  # sent again: received and dropped
            s2 = await client.blob_stats()
        assert delta(s1, s0)["bytes_received"] == delta(s1, s0)["bytes_stored"] == 3000
        assert delta(s1, s0)["physical_objects"] == 1 and delta(s1, s0)["pack_objects"] == 0
        d2 = delta(s2, s1)
        assert d2["bytes_received"] == 3000
        assert d2["bytes_stored"] == d2["logical_bytes"] == d2["physical_bytes"] == 0
    finally:
        await raw.close()


def test_cli_prints_the_counters(stack):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run(
        [str(ARKIVE), "admin", "blob-stats", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    with arkive.Client(address=stack.gateway_addr) as client:
        now = client.blob_stats()  # the sync twin
    assert set(out) == set(now.to_dict())
    assert out["blobs_indexed"] <= now.blobs_indexed and out["logical_bytes"] > 0
