"""Small-file packing end to end: thousands of tiny files cost a handful of S3 objects (packs), and
every file restores byte-identically (issue 3: "5,000 tiny files produce at most a few dozen S3
objects")."""

from __future__ import annotations

import random
import uuid

import arkive

from .refs_helpers import read_tree, s3_client

FILES = 5000


async def object_keys(s3, bucket: str) -> set[str]:
    keys: set[str] = set()
    async for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="blobs/"):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


async def test_5000_tiny_files_cost_a_few_dozen_objects_and_restore_identically(stack, tmp_path):
    rng = random.Random(FILES)
    # Distinct content per file (the index makes every file its own blob), 5 B to ~400 B each.
    files = {
        f"d{i % 50:02d}/f{i:05d}.bin": i.to_bytes(4, "big") + rng.randbytes(rng.randint(1, 400)) for i in range(FILES)
    }
    src = tmp_path / "src"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    bucket = stack.env["ARKIVE_S3_BUCKET"]
    async with s3_client(stack.env) as s3:
        before = await object_keys(s3, bucket)
        async with arkive.AsyncClient(stack.gateway_addr, project="t" + uuid.uuid4().hex[:12], progress=False) as c:
            art = arkive.Artifact("tiny")
            art.add_dir(src)
            v = await c.log_artifact(art)
            assert v.created and v.file_count == FILES and v.files_uploaded == FILES
            new = await object_keys(s3, bucket) - before
            # Every new object is a pack; 5,000 files of a few hundred bytes fit a handful of them.
            assert new and all(k.startswith("blobs/packs/") for k in new), sorted(new)[:5]
            assert len(new) <= 36, len(new)
            result = await c.download(v, tmp_path / "out")
    assert result.files_written == FILES
    assert read_tree(tmp_path / "out") == files
