"""The blocking flavour of runs, lineage and the step cache, for Client (see runs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from ._host import SyncHost
from ._lineage_export import LineageGraph
from .artifact import Artifact
from .runs import AsyncRun, RunInfo
from .version import ArtifactVersion


class Run:
    """A run, used as `with client.run(job_type="train") as run:`; see AsyncRun."""

    def __init__(self, client: Any, arun: AsyncRun) -> None:
        self._client = client
        self._arun = arun

    run_id = property(lambda self: self._arun.run_id)
    project = property(lambda self: self._arun.project)
    name = property(lambda self: self._arun.name)
    info = property(lambda self: self._arun.info)

    def __repr__(self) -> str:
        return repr(self._arun)

    def use_artifact(self, ref: str | ArtifactVersion) -> ArtifactVersion:
        return self._client._run(self._arun.use_artifact(ref))

    def log_artifact(
        self,
        artifact: Artifact,
        *,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        cache_key: str | None = None,
    ) -> ArtifactVersion:
        return self._client._run(
            self._arun.log_artifact(artifact, aliases=aliases, tags=tags, label=label, cache_key=cache_key)
        )

    def log_dataset(self, df_or_path: Any, name: str, **options: Any) -> ArtifactVersion:
        """Client.log_dataset as an output of this run (in the run's project)."""
        return self._client._run(self._arun.log_dataset(df_or_path, name, **options))

    def log_model(self, path_or_bytes: Any, name: str, **options: Any) -> ArtifactVersion:
        """Client.log_model as an output of this run (in the run's project)."""
        return self._client._run(self._arun.log_model(path_or_bytes, name, **options))

    def log_plot(self, source: Any, name: str, **options: Any) -> ArtifactVersion:
        """Client.log_plot as an output of this run (in the run's project)."""
        return self._client._run(self._arun.log_plot(source, name, **options))

    def log_object(self, obj: Any, name: str, **options: Any) -> ArtifactVersion:
        """Client.log_object as an output of this run (in the run's project)."""
        return self._client._run(self._arun.log_object(obj, name, **options))

    def upsert_artifact(self, artifact: Artifact, *, distributed_id: str, **options: Any) -> Any:
        """Client.upsert_artifact into the run's project (see AsyncRun.upsert_artifact)."""
        return self._client._run(self._arun.upsert_artifact(artifact, distributed_id=distributed_id, **options))

    def finish_artifact(self, artifact: Artifact | str, *, distributed_id: str, **options: Any) -> ArtifactVersion:
        """Client.finish_artifact as an output of this run."""
        return self._client._run(self._arun.finish_artifact(artifact, distributed_id=distributed_id, **options))

    def record_cache_key(self, cache_key: str, versions: Sequence[ArtifactVersion]) -> None:
        self._client._run(self._arun.record_cache_key(cache_key, versions))

    def finish(self, failed: bool = False) -> RunInfo:
        return self._client._run(self._arun.finish(failed))

    def __enter__(self) -> Run:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.finish(failed=et is not None)


class _Cache:
    def __init__(self, client: Any) -> None:
        self._client = client

    def lookup(self, cache_key: str, project: str | None = None) -> list[ArtifactVersion] | None:
        """Output versions of the newest finished run recorded under cache_key, or None."""
        return self._client._run(self._client._aclient.cache_lookup(cache_key, project))


class SyncLineageMixin(SyncHost):
    """Runs, lineage and step-cache methods of Client."""

    @property
    def cache(self) -> _Cache:
        return _Cache(self)

    def run(
        self,
        project: str | None = None,
        *,
        name: str = "",
        job_type: str = "",
        group: str = "",
        config: dict[str, Any] | None = None,
        heartbeat_timeout: int = 300,
    ) -> Run:
        """Starts a run (heartbeats run on the client's loop); use as a context manager."""
        arun = self._run(
            self._aclient.run(
                project, name=name, job_type=job_type, group=group, config=config, heartbeat_timeout=heartbeat_timeout
            )
        )
        return Run(self, arun)

    def get_run(self, run_id: str) -> RunInfo:
        return self._run(self._aclient.get_run(run_id))

    def runs(self, project: str | None = None, *, job_type: str = "", group: str = "") -> list[RunInfo]:
        return self._run(self._aclient.runs(project, job_type=job_type, group=group))

    def lineage(
        self,
        ref: str | ArtifactVersion,
        *,
        direction: str = "up",
        depth: int = 5,
        artifact_type: str = "",
        job_type: str = "",
        as_of: datetime | float | None = None,
        limit: int = 1000,
    ) -> LineageGraph:
        return self._run(
            self._aclient.lineage(
                ref,
                direction=direction,
                depth=depth,
                artifact_type=artifact_type,
                job_type=job_type,
                as_of=as_of,
                limit=limit,
            )
        )

    def logged_by(self, ref: str | ArtifactVersion) -> list[RunInfo]:
        return self._run(self._aclient.logged_by(ref))

    def used_by(self, ref: str | ArtifactVersion) -> list[RunInfo]:
        return self._run(self._aclient.used_by(ref))
