"""file:// folder references (one entry per file, hashed by the client, verified on download) and
arkive:// references to files of other versions (pinned at log time, read by digest, verified,
recorded as used by the logging run) against the real stack."""

from __future__ import annotations

import hashlib

import grpc
import pytest
from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

import arkive

from .auth_helpers import admin_token, create_token
from .refs_helpers import project, read_tree


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def test_a_file_folder_reference_is_one_entry_per_file(stack, tmp_path):
    folder = tmp_path / "shared"
    (folder / "sub").mkdir(parents=True)
    content = {"a.txt": b"alpha", "sub/b.bin": b"beta" * 100, "sub/c.bin": b""}
    for path, data in content.items():
        (folder / path).write_bytes(data)
    (folder / "link").symlink_to("/etc/hostname")  # outside the folder: skipped, as add_dir does
    async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
        art = arkive.Artifact("shared")
        art.add_reference(folder.as_uri(), name="data")
        assert [s for s, _ in art.skipped] == [str(folder / "link")]
        v = await client.log_artifact(art)
        files = {f.path: f async for f in client.files(v)}
        assert {p: (f.digest, f.size) for p, f in files.items()} == {
            f"data/{p}": (sha(d), len(d)) for p, d in content.items()
        }
        assert files["data/sub/b.bin"].reference.uri == (folder / "sub" / "b.bin").as_uri()
        await client.download(v, tmp_path / "out")
        assert read_tree(tmp_path / "out") == {f"data/{p}": d for p, d in content.items()}

        (folder / "sub" / "b.bin").write_bytes(b"changed")
        with pytest.raises(FailedPrecondition, match="source changed"):
            await client.download(v, tmp_path / "out2")
        again = arkive.Artifact("shared")
        again.add_reference(folder.as_uri(), name="data")
        changed = await client.log_artifact(again)  # hashed at log time: new content, new version
        assert changed.created and changed.version == 1

        with pytest.raises(InvalidArgument, match="max_objects=2"):
            arkive.Artifact("x").add_reference(folder.as_uri(), max_objects=2)
        with pytest.raises(NotFound):
            arkive.Artifact("x").add_reference((tmp_path / "nowhere").as_uri())


async def test_an_artifact_reference_is_pinned_read_by_digest_and_recorded_as_used(stack, tmp_path):
    p = project()
    src_dir = tmp_path / "src"
    (src_dir / "images").mkdir(parents=True)
    content = {"readme.md": b"# raw", "images/cat.png": b"cat" * 50, "images/dog.png": b"dog" * 70}
    for path, data in content.items():
        (src_dir / path).write_bytes(data)
    async with arkive.AsyncClient(stack.gateway_addr, p, progress=False) as client:
        raw = arkive.Artifact("raw")
        raw.add_dir(src_dir)
        source = await client.log_artifact(raw, aliases=["gold"])

        bundle = arkive.Artifact("bundle", type="bundle")
        bundle.add_reference(f"arkive://{p}/raw:gold/images", name="pics")
        bundle.add_reference(f"arkive://{p}/raw:v0/readme.md", name="docs/README.md")
        async with await client.run(job_type="bundle") as run:
            v = await run.log_artifact(bundle)
        files = {f.path: f async for f in client.files(v)}
        assert {path: (f.digest, f.reference.uri, f.reference.version_id) for path, f in files.items()} == {
            "pics/cat.png": (sha(content["images/cat.png"]), f"arkive://{p}/raw:v0/images/cat.png", source.version_id),
            "pics/dog.png": (sha(content["images/dog.png"]), f"arkive://{p}/raw:v0/images/dog.png", source.version_id),
            "docs/README.md": (sha(content["readme.md"]), f"arkive://{p}/raw:v0/readme.md", source.version_id),
        }
        assert (await client.get_run(run.run_id)).used_version_ids == [source.version_id]
        await client.download(v, tmp_path / "out")
        assert read_tree(tmp_path / "out") == {
            "pics/cat.png": content["images/cat.png"],
            "pics/dog.png": content["images/dog.png"],
            "docs/README.md": content["readme.md"],
        }
        assert b"".join([c async for c in client.stream_file(v, "pics/cat.png")]) == content["images/cat.png"]

        # Moving the alias later changes nothing: the entries name v0.
        raw2 = arkive.Artifact("raw")
        raw2.add_file(src_dir / "readme.md", name="other.md")
        await client.log_artifact(raw2, aliases=["gold"])
        assert [f.reference.uri async for f in client.files(v, path_prefix="docs")] == [
            f"arkive://{p}/raw:v0/readme.md"
        ]

        for bad, error in (
            (f"arkive://{p}/raw/readme.md", InvalidArgument),  # no version
            (f"arkive://{p}/raw:v0/missing", NotFound),
            (f"arkive://{p}/nothing:v0", NotFound),
        ):
            art = arkive.Artifact("bad")
            with pytest.raises(error):
                art.add_reference(bad)
                await client.log_artifact(art)

        await client.delete(source, delete_aliases=True)
        with pytest.raises(FailedPrecondition, match="source deleted"):
            await client.download(v, tmp_path / "out3")


async def test_an_artifact_reference_needs_read_on_its_source(stack, tmp_path):
    mine, theirs = project(), project()
    (tmp_path / "s.txt").write_bytes(b"secret")
    async with arkive.AsyncClient(stack.gateway_addr, theirs, progress=False) as admin:
        secret = arkive.Artifact("secret")
        secret.add_file(tmp_path / "s.txt")
        await admin.log_artifact(secret)
    async with grpc.aio.insecure_channel(stack.gateway_addr) as channel:
        token = await create_token(channel, admin_token(), f"w-{mine}", project=mine, role="writer")
    async with arkive.AsyncClient(stack.gateway_addr, mine, progress=False, api_key=token) as writer:
        art = arkive.Artifact("steal")
        art.add_reference(f"arkive://{theirs}/secret:v0/s.txt")
        with pytest.raises(PermissionDenied, match=f"reader role on project {theirs}"):
            await writer.log_artifact(art)
