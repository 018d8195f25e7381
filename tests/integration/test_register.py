"""register (objects already in arkive's bucket, linked without copying), GC's rule for them, and
the CLI of references and register."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from arkive_core.errors import InvalidArgument, PermissionDenied

import arkive
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import retention_service_pb2 as retpb

from .refs_helpers import project, read_tree, s3_client
from .retention_helpers import RawRetention

ARKIVE = Path(sys.executable).with_name("arkive")


# --- register -------------------------------------------------------------------------------------


async def test_register_links_objects_in_arkives_bucket(stack, tmp_path):
    env = stack.env
    prefix = f"external/{uuid.uuid4().hex[:10]}/"
    objects = {"a.txt": b"registered a", "sub/b.bin": os.urandom(3000)}
    async with s3_client(env) as s3:
        for rel, data in objects.items():
            await s3.put_object(Bucket=env["ARKIVE_S3_BUCKET"], Key=prefix + rel, Body=data)
        async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
            uri = f"s3://{env['ARKIVE_S3_BUCKET']}/{prefix}"
            v = await client.register("reg", uri, aliases=["ext"], metadata={"source": "bucket"})
            assert v.created and v.file_count == 2 and "ext" in v.aliases
            files = {f.path: f async for f in client.files(v)}
            assert {p: f.digest for p, f in files.items()} == {
                p: "sha256:" + hashlib.sha256(d).hexdigest() for p, d in objects.items()
            }
            await client.download(v, tmp_path)
            assert read_tree(tmp_path) == objects
            # Nothing was copied: no object was added under blobs/ for these digests.
            listed = await s3.list_objects_v2(Bucket=env["ARKIVE_S3_BUCKET"], Prefix=prefix)
            assert len(listed["Contents"]) == 2
            again = await client.register("reg", uri)
            assert not again.created and again.version_id == v.version_id

            with pytest.raises(InvalidArgument, match="internal blobs/"):
                await client.register("bad", f"s3://{env['ARKIVE_S3_BUCKET']}/blobs/")
            with pytest.raises(InvalidArgument, match="internal blobs/"):
                await client.register("bad", f"s3://{env['ARKIVE_S3_BUCKET']}/blobs/sha256/aa/x")
            with pytest.raises(PermissionDenied, match="arkive's bucket"):
                await client.register("bad", "s3://some-other-bucket/data/")


async def test_gc_forgets_but_never_deletes_a_registered_object(stack):
    env = stack.env
    bucket = env["ARKIVE_S3_BUCKET"]
    key = f"external/{uuid.uuid4().hex[:10]}/model.bin"
    data = os.urandom(5000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    raw = RawRetention(stack.gateway_addr)
    try:
        async with s3_client(env) as s3:
            await s3.put_object(Bucket=bucket, Key=key, Body=data)
            async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
                v = await client.register("gcreg", f"s3://{bucket}/{key}")
            assert [f.path for f in [f async for f in client.files(v)]] == ["model.bin"]
            await raw.retention.DeleteVersion(retpb.DeleteVersionRequest(ref=v.version_id, purge=True, confirm=True))
            await asyncio.sleep(1.2)
            swept = await raw.retention.CollectGarbage(
                retpb.CollectGarbageRequest(grace_seconds=1.0, digests=[digest], skip_staging=True, confirm=True)
            )
            assert swept.blobs_deleted == 1  # the index row is gone ...
            missing = await raw.blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=[digest]))
            assert list(missing.missing) == [digest]
            body = await s3.get_object(Bucket=bucket, Key=key)  # ... the owner's object is not
            assert await body["Body"].read() == data
    finally:
        await raw.close()


def run_cli(stack, *argv: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    p = subprocess.run([str(ARKIVE), *argv, "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


async def test_cli_log_reference_and_register(stack, tmp_path):
    src = tmp_path / "weights.bin"
    src.write_bytes(b"w" * 100)
    p = project()
    doc = await asyncio.to_thread(
        run_cli, stack, "log", "--name", "m", "--project", p, "--reference", src.as_uri(), "--type", "model"
    )
    assert doc["created"] and doc["file_count"] == 1 and doc["total_size"] == 100
    bucket = stack.env["ARKIVE_S3_BUCKET"]
    prefix = f"external/{uuid.uuid4().hex[:10]}/"
    async with s3_client(stack.env) as s3:
        await s3.put_object(Bucket=bucket, Key=prefix + "x.txt", Body=b"x")
    doc = await asyncio.to_thread(run_cli, stack, "register", f"{p}/reg", f"s3://{bucket}/{prefix}", "-a", "ext")
    assert doc["created"] and doc["file_count"] == 1 and "ext" in doc["aliases"]
