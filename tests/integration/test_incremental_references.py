"""Reference entries in incremental versions: a draft of a base keeps the base's references, can
remove them like files, and can add new ones; path_prefix listings include references."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from arkive_core.errors import NotFound

import arkive
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
from arkive_proto.v1 import reference_service_pb2 as rpb
from arkive_proto.v1 import reference_service_pb2_grpc as rgrpc

from .refs_helpers import project, read_tree


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def test_a_based_draft_keeps_removes_and_adds_references(stack, tmp_path):
    kept, gone, new = tmp_path / "kept.json", tmp_path / "gone.json", tmp_path / "new.json"
    for p in (kept, gone, new):
        p.write_bytes(p.name.encode() * 3)
    (tmp_path / "a.txt").write_bytes(b"a")
    b_txt = uuid.uuid4().bytes  # bytes no other test stored: the upload is not deduplicated away
    (tmp_path / "b.txt").write_bytes(b_txt)
    async with arkive.AsyncClient(stack.gateway_addr, project(), progress=False) as client:
        art = arkive.Artifact("mixed")
        art.add_file(tmp_path / "a.txt")
        art.add_reference(kept.as_uri(), name="refs/kept.json")
        art.add_reference(gone.as_uri(), name="refs/gone.json")
        base = await client.log_artifact(art)

        draft = base.new_draft()
        draft.remove("refs/gone.json")
        draft.add_file(tmp_path / "b.txt")
        draft.add_reference(new.as_uri(), name="new.json")
        v = await client.log_artifact(draft)
        assert v.created and v.version == base.version + 1
        files = {f.path: f async for f in client.files(v)}
        assert sorted(files) == ["a.txt", "b.txt", "new.json", "refs/kept.json"]
        assert files["refs/kept.json"].reference.uri == kept.as_uri()
        assert v.bytes_uploaded == len(b_txt)  # b.txt only: references are never uploaded
        assert [f.path async for f in client.files(v, path_prefix="refs")] == ["refs/kept.json"]
        await client.download(v, tmp_path / "out")
        assert read_tree(tmp_path / "out") == {
            "a.txt": b"a",
            "b.txt": b_txt,
            "new.json": new.read_bytes(),
            "refs/kept.json": kept.read_bytes(),
        }

        # A whole folder of references goes with a prefix; a reference that is not there is NOT_FOUND.
        again = v.new_draft()
        again.remove("refs")
        v3 = await client.log_artifact(again)
        assert sorted([f.path async for f in client.files(v3)]) == ["a.txt", "b.txt", "new.json"]
        missing = v3.new_draft()
        missing.remove("refs/kept.json")
        with pytest.raises(NotFound, match=r"refs/kept\.json"):
            await client.log_artifact(missing)
        assert len(await client.versions("mixed")) == 3

        # An open draft counts its references among its files (ListDrafts).
        ch = client._ch()
        draft = await agrpc.ArtifactServiceStub(ch).CreateDraft(
            apb.CreateDraftRequest(project=client.project, name="mixed", base_ref=v3.version_id)
        )
        spec = rpb.ReferenceSpec(
            uri=kept.as_uri(), name="again.json", checksum=True, digest=digest_of(kept.read_bytes()), size=9 * 3
        )
        await rgrpc.ReferenceServiceStub(ch).AddReferences(
            rpb.AddReferencesRequest(draft_id=draft.draft_id, references=[spec])
        )
        listed = {d.draft_id: d.file_count for d in await client.drafts()}
        assert listed[draft.draft_id] == 4  # a.txt, b.txt, new.json from the base + the reference
        await client.abort_draft(draft.draft_id)
