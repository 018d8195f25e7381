"""Seeded datasets, written on the fly: many small files, or a few large ones."""

from __future__ import annotations

import filecmp
import random
from dataclasses import dataclass, field
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB
GEN_CHUNK = 8 * MiB  # randbytes holds the GIL: generate in slices so an event loop stays responsive


@dataclass(frozen=True)
class Spec:
    """One dataset: `files` x `size` bytes, then `extra_files` x `extra_size` for the +10 % step."""

    name: str
    files: int
    size: int
    extra_files: int
    extra_size: int
    seed: int
    in_flight: int
    """S3 requests in flight for the raw baselines (0: all objects at once)."""
    edit_file: int = 0
    """The 1 MiB edit step: 0 rewrites 1 MiB worth of the initial files; otherwise a separate
    artifact of one file of this size gets 1 MiB rewritten in its middle."""

    @property
    def total(self) -> int:
        return self.files * self.size

    @property
    def extra_total(self) -> int:
        return self.extra_files * self.extra_size

    def concurrency(self, objects: int) -> int:
        return objects if self.in_flight == 0 else min(self.in_flight, objects)


def specs(quick: bool) -> list[Spec]:
    if quick:
        return [
            Spec("small", 300, 16 * KiB, 30, 16 * KiB, seed=1, in_flight=32),
            Spec("large", 2, 16 * MiB, 1, int(1.6 * MiB), seed=2, in_flight=0, edit_file=32 * MiB),
        ]
    return [
        Spec("small", 2000, 16 * KiB, 200, 16 * KiB, seed=1, in_flight=32),
        Spec("large", 2, 128 * MiB, 1, int(12.8 * MiB), seed=2, in_flight=0, edit_file=256 * MiB),
    ]


@dataclass
class Dataset:
    spec: Spec
    root: Path
    """The folder given to Artifact.add_dir."""
    base: list[str] = field(default_factory=list)
    """Relative paths of the initial files."""
    extra: list[str] = field(default_factory=list)
    """Relative paths of the +10 % files (written by add_extra)."""

    def read(self, rels: list[str]) -> list[bytes]:
        return [(self.root / r).read_bytes() for r in rels]


def _write(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, GEN_CHUNK)
            out.write(rng.randbytes(n))
            left -= n


def _rel(spec: Spec, i: int, group: str) -> str:
    if spec.files > 100:  # a nested tree, like a real dataset: 100 files per folder
        return f"{group}/part-{i // 100:03d}/file-{i:05d}.bin"
    return f"{group}/file-{i:05d}.bin"


def generate(spec: Spec, parent: Path) -> Dataset:
    """Writes the initial files (blocking: run it in a thread)."""
    ds = Dataset(spec, parent / spec.name)
    for i in range(spec.files):
        rel = _rel(spec, i, "base")
        _write(ds.root / rel, spec.size, spec.seed * 1_000_003 + i)
        ds.base.append(rel)
    return ds


def add_extra(ds: Dataset) -> None:
    """Writes the +10 % files into the dataset folder (new content, new paths)."""
    spec = ds.spec
    for i in range(spec.extra_files):
        rel = _rel(spec, i, "extra")
        _write(ds.root / rel, spec.extra_size, spec.seed * 1_000_003 + 500_000 + i)
        ds.extra.append(rel)


EDIT_BYTES = MiB


def edit_files(ds: Dataset) -> list[str]:
    """Rewrites about 1 MiB worth of the initial files with new content; returns their paths."""
    count = max(1, EDIT_BYTES // ds.spec.size)
    edited = ds.base[:count]
    for i, rel in enumerate(edited):
        _write(ds.root / rel, ds.spec.size, ds.spec.seed * 1_000_003 + 900_000 + i)
    return edited


def write_edit_file(ds: Dataset, parent: Path) -> Path:
    """The folder of the one-file artifact the large edit step logs (written once, blocking)."""
    root = parent / f"{ds.spec.name}-edit"
    _write(root / "model.bin", ds.spec.edit_file, ds.spec.seed * 1_000_003 + 800_000)
    return root


def edit_middle(root: Path) -> bytes:
    """Overwrites 1 MiB in the middle of model.bin in place (size unchanged); returns the new bytes."""
    path = root / "model.bin"
    size = path.stat().st_size
    data = random.Random(size).randbytes(EDIT_BYTES)
    with open(path, "r+b") as f:
        f.seek(size // 2 - EDIT_BYTES // 2)
        f.write(data)
    return data


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Differences between two folders (missing, unexpected or different files); [] if identical."""

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}

    want, got = files(expected), files(actual)
    problems = [f"missing {p}" for p in sorted(want - got)[:5]]
    problems += [f"unexpected {p}" for p in sorted(got - want)[:5]]
    for p in sorted(want & got):
        if not filecmp.cmp(expected / p, actual / p, shallow=False):
            problems.append(f"content differs: {p}")
            if len(problems) >= 10:
                break
    return problems
