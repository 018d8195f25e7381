"""Reference artifacts against real sources: S3 objects in the test SeaweedFS, a local HTTP server
(through a second gateway that allow-lists it), files on this machine; the SSRF corpus refused by
the default gateway; register of objects already in arkive's bucket."""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from botocore.exceptions import ClientError
from support import assert_eventually

import arkive
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rg

from .rawgrpc import Raw
from .refs_helpers import FileServer, project, read_tree, s3_client

CODE = Path(__file__).read_bytes()
ARKIVE = Path(sys.executable).with_name("arkive")


# --- HTTP -----------------------------------------------------------------------------------------


async def test_http_reference_recorded_verified_and_change_detected(allowed_gateway, http_server, tmp_path):
    http_server.files["data.bin"] = b"first content " * 1000
    p = project()
    async with arkive.AsyncClient(allowed_gateway, p, progress=False) as client:
        art = arkive.Artifact("web")
        art.add_reference(http_server.url("data.bin"), name="remote/data.bin")
        v = await client.log_artifact(art)
        assert v.created and v.file_count == 1 and v.total_size == 14000
        [f] = [f async for f in client.files(v)]
        assert f.path == "remote/data.bin" and f.digest == "" and f.size == 14000
        assert f.reference.etag == FileServer.etag(http_server.files["data.bin"])
        assert f.reference.uri == http_server.url("data.bin") and f.reference.checksum

        again = await client.log_artifact(art)  # same source, same ETag: the same version
        assert not again.created and again.version_id == v.version_id

        result = await client.download(v, tmp_path / "a")
        assert (tmp_path / "a" / "remote" / "data.bin").read_bytes() == http_server.files["data.bin"]
        assert result.files_written == 1 and result.bytes_written == 14000

        http_server.files["data.bin"] = b"changed!" * 1750  # same length, other bytes
        with pytest.raises(FailedPrecondition, match="source changed"):
            await client.download(v, tmp_path / "b")
        assert not (tmp_path / "b" / "remote" / "data.bin").exists()

        changed = await client.log_artifact(art)  # a new ETag is new content: a new version
        assert changed.created and changed.version == 1


async def test_http_without_etag_is_checked_by_length(allowed_gateway, http_server, tmp_path):
    http_server.files["plain.txt"] = b"twelve bytes"
    http_server.no_etag.add("plain.txt")
    async with arkive.AsyncClient(allowed_gateway, project(), progress=False) as client:
        art = arkive.Artifact("plain")
        art.add_reference(http_server.url("plain.txt"))
        v = await client.log_artifact(art)
        [f] = [f async for f in client.files(v)]
        assert (f.size, f.reference.etag) == (12, "")
        await client.download(v, tmp_path / "a")
        assert (tmp_path / "a" / "plain.txt").read_bytes() == b"twelve bytes"
        http_server.files["plain.txt"] = b"now thirteen!"
        with pytest.raises(FailedPrecondition, match=r"source changed: .* 13 bytes, not 12"):
            await client.download(v, tmp_path / "b")


async def test_http_checksum_false_records_the_uri_alone(allowed_gateway, http_server, tmp_path):
    http_server.files["loose.txt"] = b"v1"
    async with arkive.AsyncClient(allowed_gateway, project(), progress=False) as client:
        art = arkive.Artifact("loose")
        art.add_reference(http_server.url("loose.txt"), checksum=False)
        v = await client.log_artifact(art)
        [f] = [f async for f in client.files(v)]
        assert (f.path, f.size, f.reference.etag, f.reference.checksum) == ("loose.txt", 0, "", False)
        http_server.files["loose.txt"] = b"version two"
        await client.download(v, tmp_path)  # unverified: whatever is there now
        assert (tmp_path / "loose.txt").read_bytes() == b"version two"


async def test_redirect_to_loopback_is_refused(allowed_gateway, http_server):
    # The first hop is allow-listed; the redirect target (another loopback port) is not.
    http_server.redirects["go"] = "http://127.0.0.1:1/secret"
    http_server.redirects["meta"] = "http://169.254.169.254/latest/meta-data/"
    async with arkive.AsyncClient(allowed_gateway, project(), progress=False) as client:
        for path in ("go", "meta"):
            art = arkive.Artifact("redir")
            art.add_reference(http_server.url(path), name="x")
            with pytest.raises(PermissionDenied, match="reference refused"):
                await client.log_artifact(art)
        with pytest.raises(NotFound):
            await client.versions("redir")  # nothing was added or committed
        http_server.files["target.txt"] = b"reached"
        http_server.redirects["hop"] = http_server.url("target.txt")  # allowed host: followed
        art = arkive.Artifact("redir")
        art.add_reference(http_server.url("hop"), name="t.txt")
        v = await client.log_artifact(art)
        [f] = [f async for f in client.files(v)]
        assert (f.reference.uri, f.size) == (http_server.url("hop"), 7)


SSRF_CORPUS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://10.0.0.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
]


async def test_ssrf_corpus_refused_by_default_gateway(stack, http_server):
    raw = Raw(stack.gateway_addr)
    refs = rg.ReferenceServiceStub(raw.channel)
    try:
        draft = await raw.artifacts.CreateDraft(apb.CreateDraftRequest(project=project(), name="ssrf", type="dataset"))
        for url in [*SSRF_CORPUS, http_server.url("data.bin")]:
            spec = rpb.ReferenceSpec(uri=url, name="x", checksum=True)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await refs.AddReferences(rpb.AddReferencesRequest(draft_id=draft.draft_id, references=[spec]))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, (url, err.value.details())
            assert "ARKIVE_REFERENCE_ALLOW" in err.value.details()
        # Even checksum=False (no request made) is checked; and a redirect hop to loopback too.
        spec = rpb.ReferenceSpec(uri="http://127.0.0.1:9/", checksum=False)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await refs.AddReferences(rpb.AddReferencesRequest(draft_id=draft.draft_id, references=[spec]))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        for scheme in ("ftp://example.com/x", "gopher://127.0.0.1/"):
            spec = rpb.ReferenceSpec(uri=scheme, checksum=True)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await refs.AddReferences(rpb.AddReferencesRequest(draft_id=draft.draft_id, references=[spec]))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        committed = await raw.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id))
        assert committed.version.file_count == 0  # nothing was added
    finally:
        await raw.close()


# --- S3 -------------------------------------------------------------------------------------------


async def test_s3_prefix_reference_etag_and_change_detection(stack, tmp_path):
    bucket = "refs-" + uuid.uuid4().hex[:10]
    objects = {"ds/train/a.txt": b"alpha" * 100, "ds/train/b/c.bin": os.urandom(70_000), "ds/test.csv": b"x,y\n"}
    async with s3_client(stack.env) as s3:
        await s3.create_bucket(Bucket=bucket)
        for key, data in objects.items():
            await s3.put_object(Bucket=bucket, Key=key, Body=data)
        await s3.put_object(Bucket=bucket, Key="other/skip.txt", Body=b"not under the prefix")
        async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
            art = arkive.Artifact("s3ds")
            art.add_reference(f"s3://{bucket}/ds/", name="data")
            v = await client.log_artifact(art)
            files = {f.path: f async for f in client.files(v)}
            assert sorted(files) == ["data/test.csv", "data/train/a.txt", "data/train/b/c.bin"]
            for key, data in objects.items():
                f = files["data/" + key.removeprefix("ds/")]
                assert f.size == len(data) and f.reference.uri == f"s3://{bucket}/{key}"
                assert f.reference.etag.strip('"') == hashlib.md5(data).hexdigest()
            assert v.total_size == sum(map(len, objects.values()))

            await client.download(v, tmp_path / "a")
            assert read_tree(tmp_path / "a") == {"data/" + k.removeprefix("ds/"): d for k, d in objects.items()}

            same = await client.log_artifact(art)
            assert not same.created and same.version_id == v.version_id

            await s3.put_object(Bucket=bucket, Key="ds/test.csv", Body=b"x,y\n1,2\n")  # overwritten
            with pytest.raises(FailedPrecondition, match="source changed"):
                await client.download(v, tmp_path / "b")
            newer = await client.log_artifact(art)
            assert newer.created and newer.version == 1

            art2 = arkive.Artifact("capped")
            art2.add_reference(f"s3://{bucket}/ds/", max_objects=2)
            with pytest.raises(InvalidArgument, match="more than 2 objects"):
                await client.log_artifact(art2)

            art3 = arkive.Artifact("one")
            art3.add_reference(f"s3://{bucket}/ds/train/a.txt", checksum=False)
            loose = await client.log_artifact(art3)
            [f] = [f async for f in client.files(loose)]
            assert (f.path, f.size, f.reference.etag, f.reference.version_id) == ("a.txt", 0, "", "")
            await s3.put_object(Bucket=bucket, Key="ds/train/a.txt", Body=b"new")
            await client.download(loose, tmp_path / "c")  # not verified
            assert (tmp_path / "c" / "a.txt").read_bytes() == b"new"

            internal = arkive.Artifact("internal")
            internal.add_reference(f"s3://{stack.env['ARKIVE_S3_BUCKET']}/blobs/")
            with pytest.raises(PermissionDenied, match="internal blobs/"):
                await client.log_artifact(internal)

            missing = arkive.Artifact("missing")
            missing.add_reference(f"s3://{bucket}/nope.txt")
            with pytest.raises(NotFound):
                await client.log_artifact(missing)


async def test_s3_references_read_only_allowed_buckets_and_never_the_blob_bucket(stack):
    off_list, blob_bucket = "private-" + uuid.uuid4().hex[:10], stack.env["ARKIVE_S3_BUCKET"]
    async with s3_client(stack.env) as s3:
        await s3.create_bucket(Bucket=off_list)  # the gateway's keys reach it; its users must not
        await s3.put_object(Bucket=off_list, Key="secret.txt", Body=b"secret")
        await s3.put_object(Bucket=blob_bucket, Key="notes/other.txt", Body=b"other")
    async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
        for uri, why in ((f"s3://{off_list}/secret.txt", "allow list"), (f"s3://{blob_bucket}/notes/", "own bucket")):
            art = arkive.Artifact("sneaky")
            art.add_reference(uri)
            with pytest.raises(PermissionDenied, match=why):
                await client.log_artifact(art)
            with pytest.raises(NotFound):  # nothing was logged
                await client.versions("sneaky")


async def test_s3_versioned_bucket_records_version_id(stack, tmp_path):
    bucket = "refv-" + uuid.uuid4().hex[:10]
    async with s3_client(stack.env) as s3:
        await s3.create_bucket(Bucket=bucket)
        try:
            await s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        except ClientError as exc:
            pytest.skip(f"this S3 server has no bucket versioning: {exc}")
        # SeaweedFS answered InternalError now and then on the first PUT right after enabling
        # versioning on a loaded machine (its filer catching up); the setup waits for it.
        first = await assert_eventually(
            lambda: s3.put_object(Bucket=bucket, Key="m.bin", Body=b"one"), timeout=30, retry_on=(ClientError,)
        )
        if not first.get("VersionId") or first["VersionId"] == "null":
            pytest.skip("this S3 server accepted versioning but returns no version ids")
        async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
            art = arkive.Artifact("vers")
            art.add_reference(f"s3://{bucket}/m.bin")
            v = await client.log_artifact(art)
            [f] = [f async for f in client.files(v)]
            assert f.reference.version_id == first["VersionId"]
            await s3.put_object(Bucket=bucket, Key="m.bin", Body=b"two")
            # The recorded version still exists: the download serves exactly those bytes.
            await client.download(v, tmp_path)
            assert (tmp_path / "m.bin").read_bytes() == b"one"


# --- file:// --------------------------------------------------------------------------------------


async def test_file_reference_hashed_by_the_client(stack, tmp_path):
    src = tmp_path / "local.bin"
    src.write_bytes(b"local bytes")
    async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
        art = arkive.Artifact("local")
        art.add_reference(src.as_uri())
        art.add_file(__file__, name="code.py")  # ordinary files and references mix
        v = await client.log_artifact(art)
        files = {f.path: f async for f in client.files(v)}
        ref = files["local.bin"]
        assert ref.digest == "sha256:" + hashlib.sha256(b"local bytes").hexdigest() and ref.size == 11
        assert ref.reference.uri == src.as_uri()
        assert not hasattr(files["code.py"], "reference")
        await client.download(v, tmp_path / "out")
        assert (tmp_path / "out" / "local.bin").read_bytes() == b"local bytes"
        assert read_tree(tmp_path / "out")["code.py"] == CODE
        src.write_bytes(b"local BYTES")
        with pytest.raises(FailedPrecondition, match="source changed"):
            await client.download(v, tmp_path / "out2")
        clash = arkive.Artifact("clash")
        clash.add_file(__file__, name="x")
        clash.add_reference(src.as_uri(), name="x")
        with pytest.raises(FailedPrecondition, match="both a file and a reference"):
            await client.log_artifact(clash)
