"""The SDK refuses what the gateway would refuse, with the same function, before any call.

A client pointed at a port where nothing listens proves the check is local (an answer from the
network would be UNAVAILABLE); the same values against the real stack leave no event behind.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import arkive
from arkive import InvalidArgument

from .rawgrpc import unique


def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


BAD = {
    "nan": ({"loss": math.nan}, "finite"),
    "inf": ({"loss": -math.inf}, "finite"),
    "huge_int": ({"rows": 10**30}, "int64"),
    "deep_20000": ({"a": nested(20_000)}, "nested deeper than 32"),
    "deep_40": ({"a": nested(40)}, "nested deeper than 32"),
    "nul": ({"a": "x\x00"}, "NUL"),
    "oversize": ({"a": "x" * 70_000}, "65536 bytes"),
}


@pytest.fixture
def silent_address() -> Iterator[str]:
    """A port that is bound but not listening: a connection attempt is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.csv"
    path.write_text("x,y\n1,2\n")
    return path


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_metadata_is_refused_locally(case, silent_address, data_file):
    metadata, words = BAD[case]
    with pytest.raises(InvalidArgument, match="metadata") as info:
        arkive.Artifact("ds", metadata=metadata)
    assert words in info.value.message
    art = artifact(data_file)
    art.metadata = metadata  # changed after the constructor checked it
    async with arkive.AsyncClient(silent_address, project=unique(), progress=False, timeout=5) as client:
        with pytest.raises(InvalidArgument, match=words):
            await client.log_artifact(art)
        with pytest.raises(InvalidArgument, match=words):
            await client.update_version("p/ds:v0", metadata=metadata)
        with pytest.raises(InvalidArgument, match=words):
            await client.run(config=metadata)


async def test_bad_description_is_refused_locally(silent_address, data_file):
    with pytest.raises(InvalidArgument, match="description is longer than 4096"):
        arkive.Artifact("ds", description="x" * (1 << 20))
    art = artifact(data_file)
    async with arkive.AsyncClient(silent_address, project=unique(), progress=False, timeout=5) as client:
        for text, words in (("x" * (1 << 20), "longer than 4096"), ("a\x00b", "NUL")):
            art.description = text
            with pytest.raises(InvalidArgument, match=words):
                await client.log_artifact(art)
            with pytest.raises(InvalidArgument, match=words):
                await client.update_version("p/ds:v0", description=text)


def artifact(data_file: Path, **kwargs) -> arkive.Artifact:
    art = arkive.Artifact("ds", **kwargs)
    art.add_file(data_file)
    return art


async def test_nothing_is_written_when_the_sdk_refuses(stack, db, data_file):
    project = unique()
    stream = f"collection-{project}/ds"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as client:
        logged = await client.log_artifact(artifact(data_file, metadata={"rows": 1}))
        before = await db.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream)
        for metadata, words in BAD.values():
            art = artifact(data_file)
            art.metadata = metadata
            with pytest.raises(InvalidArgument, match=words):
                await client.log_artifact(art)
            with pytest.raises(InvalidArgument, match=words):
                await client.update_version(logged, metadata=metadata)
        versions = await client.versions("ds")
        assert [v.version for v in versions] == [0] and versions[0].metadata == {"rows": 1}
    assert await db.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == before
