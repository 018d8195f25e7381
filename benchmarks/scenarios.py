"""The SDK scenarios of one dataset, each next to the raw limit measured just before it."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import statistics
import time
from pathlib import Path
from typing import Any

import arkive
from arkive.engine.chunked import _sample
from arkive.engine.files import HashedFile, hash_file
from arkive_proto.v1 import blob_service_pb2 as bpb

from . import data, raw
from .data import Dataset
from .profiling import profiled
from .report import Raw, Row, human

SMALL_FIRST_LOG_S = 1.0
RELOG_S = 0.3
LARGE_VS_PUT = 1.15
EDIT_MAX_SENT = 4 * data.MiB


QUIET_IDLE = 0.85  # share of the machine's CPU time idle over QUIET_WINDOW that counts as quiet
QUIET_WINDOW = 0.5
QUIET_MAX_WAIT = 15.0


async def settle() -> float:
    """Before a timed step: collects garbage, as timeit does in its own way (it turns GC off; the
    benchmark process also holds S3 clients and earlier datasets, and a full collection, about 0.1 s
    here, would otherwise fall at random into one step or another), then waits until the machine is
    quiet (the raw limits just measured leave SeaweedFS busy for a few seconds after thousands of
    PUTs) for at most QUIET_MAX_WAIT s. Returns the seconds waited."""
    gc.collect()
    started = time.perf_counter()
    while time.perf_counter() - started < QUIET_MAX_WAIT:
        before = _cpu_times()
        await asyncio.sleep(QUIET_WINDOW)
        after = _cpu_times()
        busy, total = after[0] - before[0], after[1] - before[1]
        if total <= 0 or 1 - busy / total >= QUIET_IDLE:
            break
    return time.perf_counter() - started


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (busy excludes idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


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


class Counted:
    """Times a log and reads the server's byte counters (GetBlobStats) around it."""

    def __init__(self, client: arkive.AsyncClient) -> None:
        self.client = client
        self.received = self.stored = 0
        self.seconds = 0.0

    async def log(self, ds: Dataset, project: str, root: Path | None = None, name: str = "") -> arkive.ArtifactVersion:
        await settle()
        before = await self.client.blob_stats()
        started = time.perf_counter()
        if root is None:
            v = await _log(self.client, ds, project)
        else:
            art = arkive.Artifact(name, type="model")
            art.add_dir(root)
            v = await self.client.log_artifact(art, project=project)
        self.seconds = time.perf_counter() - started
        after = await self.client.blob_stats()
        self.received = after.bytes_received - before.bytes_received
        self.stored = after.bytes_stored - before.bytes_stored
        return v

    def server(self) -> dict[str, int]:
        return {"server_received": self.received, "server_stored": self.stored}


def _summary(v: arkive.ArtifactVersion) -> dict[str, Any]:
    return {
        "ref": v.ref,
        "created": v.created,
        "files_uploaded": v.files_uploaded,
        "bytes_uploaded": v.bytes_uploaded,
        "file_count": v.file_count,
        "total_size": v.total_size,
    }


FRESH_FIRST_LOGS = 2  # first logs more, of new content (new seeds), for the median


async def _fresh_first_logs(
    client: arkive.AsyncClient, ds: Dataset, work: Path, project: str, first: float, t_put: float, checks: Checks
) -> Row:
    """The first log again on FRESH_FIRST_LOGS datasets of the same shape, each new to the server:
    the median of those and the first one, with every sample in extra["samples"]."""
    specs = [
        dataclasses.replace(ds.spec, name=f"{ds.spec.name}-fresh{k}", seed=ds.spec.seed * 1000 + k)
        for k in range(1, FRESH_FIRST_LOGS + 1)
    ]
    fresh = await asyncio.to_thread(lambda: [data.generate(spec, work / "data") for spec in specs])
    samples = [first]
    counted = Counted(client)
    for other in fresh:
        v = await counted.log(other, project)
        samples.append(counted.seconds)
        checks.expect(
            v.created and v.bytes_uploaded == other.spec.total and counted.received == other.spec.total,
            f"{other.spec.name} first log sent {v.bytes_uploaded} B (server received {counted.received} B), "
            f"expected {other.spec.total}",
        )
    median = statistics.median(samples)
    small = ds.spec.name == "small"
    return Row(
        ds.spec.name,
        f"first log, median of {len(samples)}",
        median,
        ds.spec.total,
        f"S3 PUT {ds.spec.files} obj @{ds.spec.concurrency(ds.spec.files)}",
        t_put,
        target=f"<= {SMALL_FIRST_LOG_S} s" if small else f"<= {LARGE_VS_PUT}x raw PUT",
        met=median <= SMALL_FIRST_LOG_S if small else median <= LARGE_VS_PUT * t_put,
        extra={"samples": [round(x, 3) for x in samples]},
    )


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
    counted = Counted(client)
    with profiled(prof, f"{name}-first-log"):
        v1 = await counted.log(ds, project)
        t = counted.seconds
    checks.expect(counted.received == spec.total, f"{name} first log: server received {counted.received} B")
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
            **counted.server(),
        )
    )

    # One sample varies by +-10 % here: the target also gets a median over fresh datasets.
    rows.append(await _fresh_first_logs(client, ds, work, project, t, t_put, checks))

    # 2. Unchanged re-log: nothing may be sent and no version made.
    with profiled(prof, f"{name}-relog"):
        v2 = await counted.log(ds, project)
        t = counted.seconds
    checks.expect(counted.received == 0, f"{name} unchanged re-log: server received {counted.received} B")
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
            **counted.server(),
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
        v3 = await counted.log(ds, project)
        t = counted.seconds
    checks.expect(counted.stored == spec.extra_total, f"{name} +10 %: server stored {counted.stored} B")
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
            **counted.server(),
        )
    )

    # 4. 1 MiB edit: small rewrites 1 MiB worth of files; large rewrites 1 MiB inside one big file.
    if spec.edit_file:
        row, raw_row = await _edit_big_file(counted, s3, ds, work, project, checks, prof, repeat)
    else:
        row, raw_row = await _edit_small_files(counted, s3, ds, project, checks, prof, repeat)
        v3 = await client.use_artifact(row.extra["ref"])  # the download below fetches the edited version
    rows.append(row)
    raws.append(raw_row)

    # 5. Download of the whole newest version into an empty folder; must be byte-identical.
    all_keys = [f"r0/{k}" for k in base_keys + extra_keys]
    aconc = spec.concurrency(len(all_keys))
    gets = [await raw.get_all(s3, all_keys, aconc) for _ in range(repeat)]
    t_get, got = min(gets)
    total = spec.total + spec.extra_total
    checks.expect(got == total, f"{name} raw GET returned {got} B, expected {total}")
    raws.append(Raw(name, f"S3 GET @{aconc}", t_get, got, len(all_keys)))
    dest = work / f"download-{name}"
    await settle()
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


async def _edit_small_files(
    counted: Counted, s3: Any, ds: Dataset, project: str, checks: Checks, prof: Path | None, repeat: int
) -> tuple[Row, Raw]:
    spec, name = ds.spec, ds.spec.name
    edited = await asyncio.to_thread(data.edit_files, ds)
    nbytes = len(edited) * spec.size
    blobs = await asyncio.to_thread(ds.read, edited)
    conc = spec.concurrency(len(edited))
    t_put = min([await raw.put_all(s3, [f"e{i}/{name}/{r}" for r in edited], blobs, conc) for i in range(repeat)])
    with profiled(prof, f"{name}-edit"):
        v = await counted.log(ds, project)
    checks.expect(
        v.created and v.bytes_uploaded == nbytes and counted.stored == nbytes,
        f"{name} 1 MiB edit sent {v.bytes_uploaded} B (server stored {counted.stored} B), expected {nbytes}",
    )
    row = Row(
        name,
        f"1 MiB edit ({len(edited)} files)",
        counted.seconds,
        v.bytes_uploaded,
        f"S3 PUT {len(edited)} obj @{conc}",
        t_put,
        target=f"sent <= {human(EDIT_MAX_SENT)}",
        met=v.bytes_uploaded <= EDIT_MAX_SENT,
        extra=_summary(v),
        **counted.server(),
    )
    return row, Raw(name, f"S3 PUT @{conc} (edited files)", t_put, nbytes, len(edited))


async def _edit_big_file(
    counted: Counted, s3: Any, ds: Dataset, work: Path, project: str, checks: Checks, prof: Path | None, repeat: int
) -> tuple[Row, Raw]:
    """A separate one-file artifact: logged once (setup, not timed), then 1 MiB in its middle is
    rewritten and it is logged again. Without content-defined chunking the whole file travels;
    the row shows the gain once the SDK sends only changed chunks."""
    spec, name = ds.spec, ds.spec.name
    root = await asyncio.to_thread(data.write_edit_file, ds, work / "data")
    await counted.log(ds, project, root, f"{name}-edit")
    # The hashing service indexes a stored file's chunks in the background, after the log returned;
    # an edit logged before that uploads the whole file. Wait for it (not timed; reported).
    indexed_after = await _chunk_index_ready(counted.client, root / "model.bin")
    await asyncio.to_thread(data.edit_middle, root)
    blob = await asyncio.to_thread((root / "model.bin").read_bytes)
    t_hash = min([await asyncio.to_thread(raw.sha256_all, [blob], 1) for _ in range(repeat)])
    del blob
    with profiled(prof, f"{name}-edit"):
        v = await counted.log(ds, project, root, f"{name}-edit")
    checks.expect(v.created and v.version == 1, f"{name} 1 MiB edit: expected a new version, got {v.ref}")
    checks.expect(counted.received == v.bytes_uploaded, f"{name} 1 MiB edit: server received {counted.received} B")
    row = Row(
        name,
        f"1 MiB edit in {human(spec.edit_file)} file",
        counted.seconds,
        v.bytes_uploaded,
        f"sha256 {human(spec.edit_file)} (1 thread)",
        t_hash,
        target=f"sent <= {human(EDIT_MAX_SENT)}",
        met=v.bytes_uploaded <= EDIT_MAX_SENT,
        extra={**_summary(v), "chunk_index_ready_after_s": round(indexed_after, 3)},
        **counted.server(),
    )
    return row, Raw(name, "sha256, 1 thread (edited file)", t_hash, spec.edit_file, 1)


async def _chunk_index_ready(client: arkive.AsyncClient, path: Path, timeout: float = 120.0) -> float:
    """Seconds until the server holds the chunks the SDK samples of `path` (its chunk index is built)."""
    digest, size = await asyncio.to_thread(hash_file, path)
    samples = await asyncio.to_thread(_sample, HashedFile(path.name, path, digest, size))
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        resp = await client._blobs.FindMissingBlobs(bpb.FindMissingBlobsRequest(digests=samples))
        if not resp.missing:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - started
