"""AsyncClient.stream_file (the dashboard's downloads): the bytes of one file, checked as they pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway

import arkive
from arkive import Artifact, AsyncClient


async def _logged(client: AsyncClient, tmp_path: Path) -> arkive.ArtifactVersion:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_bytes(b"alpha" * 1000)
    (tmp_path / "d" / "ab.txt").write_bytes(b"other")
    art = Artifact("x")
    art.add_dir(tmp_path / "d")
    return await client.log_artifact(art)


async def test_streams_exactly_the_named_file(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    async with AsyncClient(fake_gateway.address, project="demo", progress=False) as client:
        v = await _logged(client, tmp_path)
        assert b"".join([c async for c in client.stream_file(v, "a.txt")]) == b"alpha" * 1000
        assert (await client.find_file(v.version_id, "ab.txt")).size == 5
        with pytest.raises(arkive.NotFound):
            await client.find_file(v, "a")  # a prefix of a name is not that file


async def test_wrong_bytes_from_the_server_raise_at_the_end(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    async with AsyncClient(fake_gateway.address, project="demo", progress=False) as client:
        v = await _logged(client, tmp_path)
        info = await client.find_file(v, "ab.txt")
        fake_gateway.state.blobs[info.digest] = b"evil!"  # same size, other bytes
        with pytest.raises(arkive.ArkiveError, match="do not match"):
            _ = [c async for c in client.stream_file(v, "ab.txt")]
