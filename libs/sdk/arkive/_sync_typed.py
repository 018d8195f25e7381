"""The blocking flavour of log_model, log_dataset and log_plot, for Client (see typed.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._host import SyncHost
from .typed import Source
from .version import ArtifactVersion


class SyncTypedMixin(SyncHost):
    """Typed-artifact methods of Client."""

    def log_object(
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
        """Logs a Python object with its materializer (see AsyncClient.log_object)."""
        return self._run(
            self._aclient.log_object(
                obj,
                name,
                project,
                metadata=metadata,
                description=description,
                aliases=aliases,
                tags=tags,
                label=label,
                run_id=run_id,
            )
        )

    def load(self, ref: Any, root: str | os.PathLike[str] | None = None) -> Any:
        """The Python object a version holds (see AsyncClient.load)."""
        return self._run(self._aclient.load(ref, root))

    def log_model(
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
        """Logs a model with metrics, framework and extra data (see AsyncClient.log_model)."""
        return self._run(
            self._aclient.log_model(
                path_or_bytes,
                name,
                project,
                metrics=metrics,
                extra_data=extra_data,
                framework=framework,
                metadata=metadata,
                description=description,
                aliases=aliases,
                tags=tags,
                label=label,
                run_id=run_id,
                file_name=file_name,
            )
        )

    def log_dataset(
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
        """Logs a DataFrame or Parquet/CSV file as Parquet with schema, preview and stats (see
        AsyncClient.log_dataset)."""
        return self._run(
            self._aclient.log_dataset(
                df_or_path,
                name,
                project,
                preview=preview,
                stats=stats,
                max_rows=max_rows,
                metadata=metadata,
                description=description,
                aliases=aliases,
                tags=tags,
                label=label,
                run_id=run_id,
            )
        )

    def log_plot(
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
        """Logs a PNG/SVG/HTML file (or matplotlib figure) as type "plot" (see AsyncClient.log_plot)."""
        return self._run(
            self._aclient.log_plot(
                path,
                name,
                project,
                title=title,
                metadata=metadata,
                description=description,
                aliases=aliases,
                tags=tags,
                label=label,
                run_id=run_id,
            )
        )
