"""Large-file uploads against the real gateway: the SDK streams without hashing again and relies on
the server's verification; a file edited after hashing is reported as changed, never stored."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

import arkive
import arkive.engine.local as local_mod

SIZE = 2 * 1024 * 1024 + 17  # streamed alone (not packed), below the chunking threshold
DIRECT = 9 * 1024 * 1024 + 17  # PUT straight to S3 (see _direct.py); S3 refuses the changed bytes


@pytest.mark.parametrize("edit", ["same size", "grown"])
@pytest.mark.parametrize("size", [SIZE, DIRECT], ids=["streamed", "direct"])
def test_large_file_edited_after_hashing_is_refused_as_changed(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str, size: int
) -> None:
    SIZE = size
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(SIZE))
    real = local_mod.hash_files

    async def hash_then_edit(*args: Any, **kwargs: Any) -> Any:
        out = await real(*args, **kwargs)
        data = bytearray(f.read_bytes())
        data[SIZE // 2] ^= 0xFF
        f.write_bytes(bytes(data) + (b"more" if edit == "grown" else b""))
        return out

    monkeypatch.setattr(local_mod, "hash_files", hash_then_edit)
    project = "t" + uuid.uuid4().hex[:12]
    with arkive.Client(stack.gateway_addr, project=project, progress=False) as client:
        art = arkive.Artifact("big")
        art.add_file(f)
        with pytest.raises(arkive.FailedPrecondition, match="changed while it was being logged"):
            client.log_artifact(art)
        assert client.artifacts() == []  # nothing committed
        monkeypatch.setattr(local_mod, "hash_files", real)
        v = client.log_artifact(art)  # logging again takes the new content
        assert v.created and v.bytes_uploaded == f.stat().st_size
        out = client.download(v, tmp_path / "out")
        assert (out.path / "big.bin").read_bytes() == f.read_bytes()
