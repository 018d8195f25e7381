"""Packs of small files leave while the rest of the log is still being hashed (_early.py), against
the real stack: what they send is what a log sends, nothing is sent for content already stored,
and a file changed after hashing is still refused."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

import arkive
import arkive._log as log_mod
import arkive.engine.early as early_mod
import arkive.engine.files as files_mod
import arkive.engine.packs as packs_mod
import arkive.engine.transfer as transfer_mod
from arkive.engine.local import local_files

KiB = 1024
FILES = 1600  # three full packs of 512 x 16 KiB, then a partial one
GATE_TIMEOUT = 20.0


def make_files(root: Path, n: int = FILES, size: int = 16 * KiB) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for i in range(n):
        rel = f"d{i % 7}/f{i:05d}.bin"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(size)
        (root / rel).write_bytes(data)
        out[rel] = data
    return out


def test_packs_leave_before_hashing_ends_and_send_each_blob_once(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    contents = make_files(src)
    art = arkive.Artifact("many", type="dataset")
    art.add_dir(src)
    last = str(local_files(art)[-1].source)  # hashed last: small files are hashed in this order, on one thread
    pack_started = threading.Event()
    early_packs: list[int] = []
    late_packs: list[int] = []
    real_early, real_late, real_read = early_mod.upload_pack, transfer_mod.upload_pack, files_mod.read_and_hash

    async def early_pack(stub: Any, pack: list[Any], *args: Any) -> None:
        early_packs.append(len(pack))
        pack_started.set()
        await real_early(stub, pack, *args)

    async def late_pack(stub: Any, pack: list[Any], *args: Any) -> None:
        late_packs.append(len(pack))
        await real_late(stub, pack, *args)

    waited: list[bool] = []

    def read_and_hash(source: Any, *args: Any) -> Any:
        if str(source) == last:  # the last file is hashed only once a pack has left
            waited.append(pack_started.wait(GATE_TIMEOUT))
        return real_read(source, *args)

    with_commit: list[int] = []
    real_commit = log_mod.commit_draft

    async def commit_draft(*args: Any) -> Any:
        with_commit.append(len(args[-1]))  # the files that travel with CommitDraft
        return await real_commit(*args)

    monkeypatch.setattr(early_mod, "upload_pack", early_pack)
    monkeypatch.setattr(transfer_mod, "upload_pack", late_pack)
    monkeypatch.setattr(log_mod, "commit_draft", commit_draft)
    monkeypatch.setattr(files_mod, "read_and_hash", read_and_hash)
    project = "t" + uuid.uuid4().hex[:12]
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as client:
        before = client.blob_stats()
        v = client.log_artifact(art)
        assert waited == [True], "no pack left while files were still being hashed"
        assert v.created and v.file_count == FILES
        assert v.files_uploaded == FILES and v.bytes_uploaded == FILES * 16 * KiB
        assert sorted(early_packs) == [FILES - 3 * 512, 512, 512, 512] and late_packs == []
        # The pack stored last is added by the commit itself, not by one more AddFiles.
        assert len(with_commit) == 1 and with_commit[0] in early_packs
        after = client.blob_stats()
        assert after.bytes_received - before.bytes_received == FILES * 16 * KiB  # each blob sent once
        out = client.download(v, tmp_path / "out")
        for rel in list(contents)[::97]:
            assert (out.path / rel).read_bytes() == contents[rel]


def test_content_that_is_a_version_already_sends_nothing(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    make_files(src, 700)
    project = "t" + uuid.uuid4().hex[:12]
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("same", type="dataset")
        art.add_dir(src)
        first = client.log_artifact(art)
        # A fresh stat cache (another machine, a new checkout): every file is hashed again, and
        # each early group finds its blobs stored.
        monkeypatch.setenv("ARKIVE_CACHE_DIR", str(tmp_path / "other-cache"))
        sent: list[int] = []
        real = early_mod.upload_pack

        async def counting(stub: Any, pack: list[Any], *args: Any) -> None:
            sent.append(len(pack))
            await real(stub, pack, *args)

        monkeypatch.setattr(early_mod, "upload_pack", counting)
        before = client.blob_stats()
        again = arkive.Artifact("same", type="dataset")
        again.add_dir(src)
        second = client.log_artifact(again)
        assert not second.created and second.version_id == first.version_id
        assert second.bytes_uploaded == 0 and sent == []
        assert client.blob_stats().bytes_received == before.bytes_received


def test_small_file_changed_after_hashing_is_refused(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    make_files(src, 600)
    victim = src / "d0" / "f00000.bin"
    real = packs_mod._contents

    def edit_then_read(pack: list[Any]) -> Any:
        if any(f.source == victim for f in pack):
            victim.write_bytes(os.urandom(16 * KiB))  # same size, new bytes and mtime
        return real(pack)

    monkeypatch.setattr(packs_mod, "_contents", edit_then_read)
    project = "t" + uuid.uuid4().hex[:12]
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("edited", type="dataset")
        art.add_dir(src)
        with pytest.raises(arkive.FailedPrecondition, match="changed while it was being logged"):
            client.log_artifact(art)
        assert client.artifacts() == []  # nothing committed
        monkeypatch.setattr(packs_mod, "_contents", real)
        v = client.log_artifact(art)
        assert v.created and v.file_count == 600
        out = client.download(v, tmp_path / "out")
        assert (out.path / "d0" / "f00000.bin").read_bytes() == victim.read_bytes()
