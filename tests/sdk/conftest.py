"""Fixtures of the SDK tests. `fake_gateway` is an in-memory server (see sdk_fake_gateway.py); the
real stack's `stack` fixture lives in tests/conftest.py and is used by test_sdk_integration.py only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A small tree: nested folders, an empty file, a multi-chunk file and a duplicate blob."""
    root = tmp_path / "data"
    (root / "train" / "images").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "README.md").write_text("# mnist\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "train" / "labels.csv").write_text("id,label\n1,7\n2,3\n")
    (root / "train" / "images" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "test" / "labels.csv").write_text("id,label\n1,7\n2,3\n")  # same bytes as train's
    return root
