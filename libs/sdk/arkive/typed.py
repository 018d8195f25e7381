"""Typed artifacts: models with metrics, datasets with schema, preview and statistics, plots
(an AsyncClient feature; Client's blocking methods are generated from it).

    await client.log_model("model.pkl", name="clf", metrics={"accuracy": 0.93}, framework="sklearn",
                           extra_data={"confusion": "plots/confusion.png"})
    await client.log_dataset(df, name="iris", preview=20, stats=True)     # or a .parquet / .csv path
    await client.log_plot("roc.png", name="roc", title="ROC curve")

Each is an ordinary version (log_artifact underneath: deduplicated, an unchanged re-log makes no new
version) whose metadata says what it is, so search and retention can use it
(`where=["metrics.accuracy>0.9"]`, `keep_best=3, metric="metrics.accuracy"`).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arkive_core.errors import InvalidArgument, NotFound

from ._feature import Feature
from ._log_options import LogOptions
from .artifact import Artifact
from .version import ArtifactVersion

MODEL_FILE = "model.bin"
DATASET_FILE = "data.parquet"
EXTRA_DIR = "extra_data"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")  # one part of a searchable metadata key
PLOT_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}

Source = str | os.PathLike[str] | bytes


def check_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float | int]:
    """Metric names must be searchable keys; values finite numbers."""
    out: dict[str, float | int] = {}
    for key, value in (metrics or {}).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidArgument(
                f"invalid metric name {key!r}: letters, digits, '_' and '-' (starting with a letter or '_'), "
                "at most 64 characters, so that search and retention can address it"
            )
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidArgument(f"metric {key!r} must be a finite number, not {value!r}")
        out[key] = value
    return out


def _add_source(art: Artifact, source: Source, name: str, tmp: Path) -> list[str]:
    """Adds a file, a folder (under prefix name/) or bytes at artifact path `name`; returns the paths."""
    if isinstance(source, bytes | bytearray | memoryview):
        local = tmp / f"blob-{len(list(tmp.iterdir()))}"
        local.write_bytes(bytes(source))
        return [art.add_file(local, name)]
    path = Path(source)
    if not path.exists():
        raise NotFound(f"no such file or directory: {path}")
    if path.is_dir():
        prefix = f"{name}/" if name else None
        before = set(art.paths)
        art.add_dir(path, prefix)
        return sorted(set(art.paths) - before)
    return [art.add_file(path, name)]


def build_model(
    source: Source,
    name: str,
    tmp: Path,
    *,
    metrics: Mapping[str, Any] | None,
    extra_data: Mapping[str, Source] | None,
    framework: str | None,
    metadata: Mapping[str, Any] | None,
    description: str,
    file_name: str | None,
) -> Artifact:
    meta: dict[str, Any] = dict(metadata or {})
    meta["metrics"] = {**(meta.get("metrics") or {}), **check_metrics(metrics)}
    if framework:
        meta["framework"] = str(framework)
    art = Artifact(name, type="model", metadata={}, description=description)
    if isinstance(source, bytes | bytearray | memoryview):
        meta["model_file"] = _add_source(art, source, file_name or MODEL_FILE, tmp)[0]
    elif Path(source).is_dir():
        _add_source(art, source, "", tmp)
    else:
        meta["model_file"] = _add_source(art, source, file_name or Path(source).name, tmp)[0]
    extras: dict[str, str] = {}
    for key, value in (extra_data or {}).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidArgument(f"invalid extra_data key {key!r}: letters, digits, '_' and '-'")
        if isinstance(value, bytes | bytearray | memoryview):
            extras[key] = _add_source(art, value, f"{EXTRA_DIR}/{key}", tmp)[0]
        elif Path(value).is_dir():
            _add_source(art, value, f"{EXTRA_DIR}/{key}", tmp)
            extras[key] = f"{EXTRA_DIR}/{key}/"
        else:
            extras[key] = _add_source(art, value, f"{EXTRA_DIR}/{key}{Path(value).suffix}", tmp)[0]
    if extras:
        meta["extra_data"] = extras
    art.metadata = meta
    art.metadata_json()  # validate now
    return art


def build_dataset(
    data: Any,
    name: str,
    tmp: Path,
    *,
    preview: int,
    stats: bool,
    max_rows: int,
    metadata: Mapping[str, Any] | None,
    description: str,
) -> Artifact:
    from . import _profile

    table, source_format, notes = _profile.to_table(data)
    art = Artifact(name, type="dataset", description=description)
    if source_format == "parquet":
        art.add_file(Path(data), DATASET_FILE)  # stored as given: same bytes, same digest
    else:
        local = tmp / DATASET_FILE
        _profile.write_parquet(table, local)
        art.add_file(local, DATASET_FILE)
    meta: dict[str, Any] = {"format": "parquet", "file": DATASET_FILE, "source_format": source_format}
    meta.update(_profile.profile(table, preview=preview, stats=stats, max_rows=max_rows))
    if notes:
        meta["conversions"] = notes
    user = dict(metadata or {})
    clash = sorted(set(user) & set(meta))
    if clash:
        raise InvalidArgument(f"metadata keys {clash} are set by log_dataset; use other names")
    art.metadata = {**user, **meta}
    art.metadata_json()
    return art


def build_plot(
    source: Any, name: str, tmp: Path, *, title: str | None, metadata: Mapping[str, Any] | None, description: str
) -> Artifact:
    art = Artifact(name, type="plot", description=description)
    if hasattr(source, "savefig"):  # a matplotlib figure
        local = tmp / "plot.png"
        source.savefig(local, format="png", bbox_inches="tight")
        path = local
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
    else:
        raise InvalidArgument(f"log_plot takes a PNG/SVG/HTML file or a matplotlib figure, not {type(source).__name__}")
    suffix = path.suffix.lower()
    if suffix not in PLOT_TYPES:
        raise InvalidArgument(f"log_plot stores {', '.join(sorted(PLOT_TYPES))} files, not {path.name!r}")
    stored = art.add_file(path, path.name)
    meta = dict(metadata or {})
    meta.update(title=title or path.stem, format=suffix.lstrip("."), media_type=PLOT_TYPES[suffix], file=stored)
    art.metadata = meta
    art.metadata_json()
    return art


class Typed(Feature):
    """log_model, log_dataset and log_plot of AsyncClient."""

    async def _log_built(
        self,
        build: Any,
        project: str | None,
        options: LogOptions,
    ) -> ArtifactVersion:
        # Building (hashing a Parquet write, computing stats) is CPU work: keep it off the loop.
        with tempfile.TemporaryDirectory(prefix="arkive-") as tmp:
            art = await asyncio.to_thread(build, Path(tmp))
            return await self.log_artifact(art, project, **options.keywords())

    async def log_object(
        self,
        obj: Any,
        name: str,
        project: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
    ) -> ArtifactVersion:
        """Logs a Python object with the materializer that handles it (see arkive.materializers):
        a DataFrame as a dataset, a numpy array, a dict or list as JSON, text, bytes, anything
        else as a pickled model; `load()` gives it back."""
        from ._objects import build_object

        def build(tmp: Path) -> Artifact:
            return build_object(obj, name, tmp, metadata=metadata, description=description)

        return await self._log_built(build, project, LogOptions(aliases, tags, label, run_id))

    async def load(self, ref: Any, root: str | os.PathLike[str] | None = None) -> Any:
        """The Python object a version holds (a DataFrame, an array, a model, a dict, text), read
        by the materializer it was logged with or recognised from its files; a folder path for
        anything else (downloaded to root, default ./artifacts/<name>:v<N>). With root, the files
        are also kept there. Pickled models run code when loaded: load only versions you trust."""
        from ._objects import load

        return await load(self._client, ref, None if root is None else Path(root))

    async def log_model(
        self,
        path_or_bytes: Source,
        name: str,
        project: str | None = None,
        *,
        metrics: Mapping[str, float] | None = None,
        extra_data: Mapping[str, Source] | None = None,
        framework: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
        file_name: str | None = None,
    ) -> ArtifactVersion:
        """Logs a model (type "model"): a file, a folder, or bytes (stored as `file_name`, default model.bin).

        metrics: {"accuracy": 0.93}: finite numbers, stored as metadata "metrics" (search
        `where=["metrics.accuracy>0.9"]`, sort `order_by="-metrics.accuracy"`, retention
        `metric="metrics.accuracy"`). framework: stored as metadata "framework".
        extra_data: {"confusion": "plots/confusion.png"}: files, folders or bytes stored under
        extra_data/<key> in the version; metadata "extra_data" maps each key to its path there.
        """

        def build(tmp: Path) -> Artifact:
            return build_model(
                path_or_bytes,
                name,
                tmp,
                metrics=metrics,
                extra_data=extra_data,
                framework=framework,
                metadata=metadata,
                description=description,
                file_name=file_name,
            )

        return await self._log_built(build, project, LogOptions(aliases, tags, label, run_id))

    async def log_dataset(
        self,
        df_or_path: Any,
        name: str,
        project: str | None = None,
        *,
        preview: int = 20,
        stats: bool = True,
        max_rows: int = 1_000_000,
        metadata: Mapping[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
    ) -> ArtifactVersion:
        """Logs a table (type "dataset") stored as Parquet at data.parquet.

        df_or_path: a pandas DataFrame, a pyarrow Table, or a .parquet/.csv file (needs pyarrow; pandas
        only for DataFrames). A Parquet file is stored as is; anything else is written as Parquet.
        Metadata (computed here, on the client): format, shape [rows, columns], num_rows,
        num_columns, schema [{name, type, nullable}], preview {columns, rows} of the first `preview`
        rows (at most 100 columns, JSON-safe values), stats {sampled, sample_rows, columns: {name:
        {count, nulls, mean, std, min, max, p25, p50, p75, histogram (20 bins) | unique, top}}}.
        Above `max_rows` rows the stats (except count and nulls) come from an evenly spaced sample
        of max_rows rows. Whatever does not fit the metadata limit is cut and listed in
        "profile_truncated". Object columns of mixed types are stored as strings ("conversions").
        """

        def build(tmp: Path) -> Artifact:
            return build_dataset(
                df_or_path,
                name,
                tmp,
                preview=preview,
                stats=stats,
                max_rows=max_rows,
                metadata=metadata,
                description=description,
            )

        return await self._log_built(build, project, LogOptions(aliases, tags, label, run_id))

    async def log_plot(
        self,
        path: Any,
        name: str,
        project: str | None = None,
        *,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
    ) -> ArtifactVersion:
        """Logs a PNG, SVG or HTML file (or a matplotlib figure, saved as PNG) as type "plot"; metadata
        gets title (default: the file's stem), format, media_type and file."""

        def build(tmp: Path) -> Artifact:
            return build_plot(path, name, tmp, title=title, metadata=metadata, description=description)

        return await self._log_built(build, project, LogOptions(aliases, tags, label, run_id))
