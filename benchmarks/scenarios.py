"""The SDK scenarios of one dataset, each next to the raw limit measured just before it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import arkive

from . import data, raw
from .data import Dataset
from .profiling import profiled
from .report import Raw, Row, human

SMALL_FIRST_LOG_S = 1.0
RELOG_S = 0.3
LARGE_VS_PUT = 1.15


class Checks:
    """Correctness checks; any failure makes the benchmark exit non-zero."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)


async def _log(client: arkive.AsyncClient, ds: Dataset, project: str) -> arkive.ArtifactVersion:
    art = arkive.Artifact(ds.spec.name, type="dataset")
    art.add_dir(ds.root)
    return await client.log_artifact(art, project=project)


def _summary(v: arkive.ArtifactVersion) -> dict[str, Any]:
    return {
        "ref": v.ref,
        "created": v.created,
        "files_uploaded": v.files_uploaded,
        "bytes_uploaded": v.bytes_uploaded,
        "file_count": v.file_count,
        "total_size": v.total_size,
    }


async def run_dataset(
    client: arkive.AsyncClient,
    s3: Any,
    ds: Dataset,
    work: Path,
    project: str,
    checks: Checks,
    prof: Path | None,
    repeat: int = 2,
) -> tuple[list[Row], list[Raw]]:
    """Raw limits are the best of `repeat` runs (other processes share the machine); SDK steps run once."""
    spec, name = ds.spec, ds.spec.name
    rows: list[Row] = []
    raws: list[Raw] = []
    conc = spec.concurrency(spec.files)

    # Raw limits of the initial files: sha256 in memory, then one S3 object per file.
    blobs = await asyncio.to_thread(ds.read, ds.base)
    t_hash = min([await asyncio.to_thread(raw.sha256_all, blobs) for _ in range(repeat)])
    raws.append(Raw(name, f"sha256, {raw.hash_threads()} threads", t_hash, spec.total, spec.files))
    base_keys = [f"{name}/{rel}" for rel in ds.base]
    t_put = min([await raw.put_all(s3, [f"r{i}/{k}" for k in base_keys], blobs, conc) for i in range(repeat)])
    raws.append(Raw(name, f"S3 PUT @{conc}", t_put, spec.total, spec.files))
    del blobs

    # 1. First log: everything is new.
    with profiled(prof, f"{name}-first-log"):
        started = time.perf_counter()
        v1 = await _log(client, ds, project)
        t = time.perf_counter() - started
    checks.expect(v1.created, f"{name} first log: created=False")
    checks.expect(
        v1.bytes_uploaded == spec.total and v1.files_uploaded == spec.files,
        f"{name} first log sent {v1.files_uploaded} files / {v1.bytes_uploaded} B, "
        f"expected {spec.files} / {spec.total}",
    )
    small = name == "small"
    rows.append(
        Row(
            name,
            "first log",
            t,
            v1.bytes_uploaded,
            f"S3 PUT {spec.files} obj @{conc}",
            t_put,
            target=f"<= {SMALL_FIRST_LOG_S} s" if small else f"<= {LARGE_VS_PUT}x raw PUT",
            met=t <= SMALL_FIRST_LOG_S if small else t <= LARGE_VS_PUT * t_put,
            extra=_summary(v1),
        )
    )

    # 2. Unchanged re-log: nothing may be sent and no version made.
    with profiled(prof, f"{name}-relog"):
        started = time.perf_counter()
        v2 = await _log(client, ds, project)
        t = time.perf_counter() - started
    checks.expect(not v2.created, f"{name} unchanged re-log created a new version ({v2.ref})")
    checks.expect(v2.bytes_uploaded == 0, f"{name} unchanged re-log sent {v2.bytes_uploaded} B")
    checks.expect(v2.version_id == v1.version_id, f"{name} unchanged re-log returned {v2.ref}, not {v1.ref}")
    rows.append(
        Row(
            name,
            "unchanged re-log",
            t,
            v2.bytes_uploaded,
            f"sha256 {human(spec.total)}",
            t_hash,
            target=f"<= {RELOG_S} s, 0 B sent",
            met=t <= RELOG_S and v2.bytes_uploaded == 0,
            extra=_summary(v2),
        )
    )

    # 3. +10 %: only the new files may be sent.
    await asyncio.to_thread(data.add_extra, ds)
    extra = await asyncio.to_thread(ds.read, ds.extra)
    extra_keys = [f"{name}/{rel}" for rel in ds.extra]
    econc = spec.concurrency(spec.extra_files)
    t_put_extra = min([await raw.put_all(s3, [f"r{i}/{k}" for k in extra_keys], extra, econc) for i in range(repeat)])
    raws.append(Raw(name, f"S3 PUT @{econc} (+10 %)", t_put_extra, spec.extra_total, spec.extra_files))
    del extra
    with profiled(prof, f"{name}-plus10"):
        started = time.perf_counter()
        v3 = await _log(client, ds, project)
        t = time.perf_counter() - started
    checks.expect(
        v3.created and v3.version == v1.version + 1, f"{name} +10 % log: expected a new version, got {v3.ref}"
    )
    checks.expect(
        v3.bytes_uploaded == spec.extra_total and v3.file_count == spec.files + spec.extra_files,
        f"{name} +10 % log sent {v3.bytes_uploaded} B for {v3.file_count} files, expected {spec.extra_total} B",
    )
    rows.append(
        Row(
            name,
            "+10 % files",
            t,
            v3.bytes_uploaded,
            f"S3 PUT {spec.extra_files} obj @{econc}",
            t_put_extra,
            extra=_summary(v3),
        )
    )

    # 4. Download of the whole new version into an empty folder; must be byte-identical.
    all_keys = [f"r0/{k}" for k in base_keys + extra_keys]
    aconc = spec.concurrency(len(all_keys))
    gets = [await raw.get_all(s3, all_keys, aconc) for _ in range(repeat)]
    t_get, got = min(gets)
    total = spec.total + spec.extra_total
    checks.expect(got == total, f"{name} raw GET returned {got} B, expected {total}")
    raws.append(Raw(name, f"S3 GET @{aconc}", t_get, got, len(all_keys)))
    dest = work / f"download-{name}"
    with profiled(prof, f"{name}-download"):
        started = time.perf_counter()
        version = await client.use_artifact(v3.ref)
        res = await client.download(version, dest)
        t = time.perf_counter() - started
    checks.expect(
        res.files_written == len(all_keys) and res.bytes_written == total,
        f"{name} download wrote {res.files_written} files / {res.bytes_written} B, expected {len(all_keys)} / {total}",
    )
    diffs = await asyncio.to_thread(data.compare_trees, ds.root, dest)
    checks.expect(not diffs, f"{name} download is not byte-identical: {'; '.join(diffs)}")
    rows.append(
        Row(
            name,
            "download (recv)",
            t,
            res.bytes_written,
            f"S3 GET {len(all_keys)} obj @{aconc}",
            t_get,
            extra={"files_written": res.files_written, "identical": not diffs},
        )
    )
    return rows, raws
