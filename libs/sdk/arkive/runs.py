"""Runs, lineage queries and the step cache (the async implementation; Client wraps it).

    async with client.run(project="demo", job_type="train", config={"lr": 0.1}) as run:
        data = await run.use_artifact("demo/mnist:latest")      # input edge, exact version
        await run.log_artifact(model_artifact, cache_key=key)   # output edge (+ step cache)

A run sends heartbeats while it is open; one whose client vanished is marked crashed by the server.
Leaving the block normally finishes the run, an exception marks it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from arkive_core.errors import InvalidArgument
from google.protobuf.timestamp_pb2 import Timestamp

from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lgrpc

from ._convert import to_datetime
from ._feature import Feature
from ._lineage_export import LineageEdge, LineageGraph, LineageNode
from .artifact import Artifact, metadata_json
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .aclient import AsyncClient

STATE_NAMES = {
    lpb.RUN_STATE_RUNNING: "running",
    lpb.RUN_STATE_FINISHED: "finished",
    lpb.RUN_STATE_FAILED: "failed",
    lpb.RUN_STATE_CRASHED: "crashed",
}
DIRECTIONS = {
    "up": lpb.LINEAGE_DIRECTION_UPSTREAM,
    "down": lpb.LINEAGE_DIRECTION_DOWNSTREAM,
    "both": lpb.LINEAGE_DIRECTION_BOTH,
}


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    project: str
    name: str
    job_type: str
    group: str
    config: dict[str, Any]
    state: str
    started_at: datetime
    finished_at: datetime | None
    used_version_ids: list[str]
    logged_version_ids: list[str]
    used: list[str]  # "project/name:vN" of each used version (its id while the server does not know it yet)
    logged: list[str]

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return d


def run_from_proto(r: lpb.Run) -> RunInfo:
    return RunInfo(
        run_id=r.run_id,
        project=r.project,
        name=r.name,
        job_type=r.job_type,
        group=r.group,
        config=json.loads(r.config_json or "{}"),
        state=STATE_NAMES.get(r.state, "unknown"),
        started_at=to_datetime(r.started_at),
        finished_at=to_datetime(r.finished_at) if r.HasField("finished_at") else None,
        used_version_ids=list(r.used_version_ids),
        logged_version_ids=list(r.logged_version_ids),
        used=list(r.used_refs) or list(r.used_version_ids),  # a server older than the refs sends ids only
        logged=list(r.logged_refs) or list(r.logged_version_ids),
    )


def _node(n: lpb.LineageNode) -> LineageNode:
    return LineageNode(
        id=n.id,
        kind=n.kind,
        project=n.project,
        name=n.name,
        type=n.type,
        version=int(n.version),
        depth=n.depth,
        deleted=n.deleted,
        state=STATE_NAMES.get(n.state, ""),
    )


def _timestamp(value: datetime | float | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class AsyncRun:
    """A run on the server; use as `async with`. Created by AsyncClient.run()."""

    def __init__(self, client: AsyncClient, info: RunInfo, heartbeat_every: float) -> None:
        self._client = client
        self.info = info
        self._every = heartbeat_every
        self._beat: asyncio.Task[None] | None = None

    run_id = property(lambda self: self.info.run_id)
    project = property(lambda self: self.info.project)
    name = property(lambda self: self.info.name)

    def __repr__(self) -> str:
        return f"Run({self.info.project}/{self.info.name}, id={self.run_id}, {self.info.state})"

    @property
    def _lineage(self) -> lgrpc.LineageServiceStub:
        return lgrpc.LineageServiceStub(self._client._ch())

    def _start_heartbeat(self) -> None:
        async def beat() -> None:
            stub = self._lineage
            while True:
                await asyncio.sleep(self._every)
                with contextlib.suppress(Exception):  # a missed beat is retried; the timeout is generous
                    await stub.HeartbeatRun(lpb.HeartbeatRunRequest(run_id=self.run_id), timeout=10)

        self._beat = asyncio.get_running_loop().create_task(beat())

    async def use_artifact(self, ref: str | ArtifactVersion) -> ArtifactVersion:
        """Resolves ref now and records that this run used exactly that version."""
        resp = await self._client._call(
            self._lineage.UseArtifact,
            lpb.UseArtifactRequest(run_id=self.run_id, ref=self._client._ref(ref)),
        )
        return self._client._version(resp.version)

    async def log_artifact(
        self,
        artifact: Artifact,
        *,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        cache_key: str | None = None,
    ) -> ArtifactVersion:
        """Logs the artifact as an output of this run; with cache_key, records it in the step cache."""
        version = await self._client.log_artifact(
            artifact, self.project, aliases=aliases, tags=tags, label=label, run_id=self.run_id
        )
        if cache_key:
            await self.record_cache_key(cache_key, [version])
        return version

    async def log_dataset(self, df_or_path: Any, name: str, **options: Any) -> ArtifactVersion:
        """AsyncClient.log_dataset as an output of this run (in the run's project)."""
        return await self._client.log_dataset(df_or_path, name, self.project, run_id=self.run_id, **options)

    async def log_model(self, path_or_bytes: Any, name: str, **options: Any) -> ArtifactVersion:
        """AsyncClient.log_model as an output of this run (in the run's project)."""
        return await self._client.log_model(path_or_bytes, name, self.project, run_id=self.run_id, **options)

    async def log_plot(self, source: Any, name: str, **options: Any) -> ArtifactVersion:
        """AsyncClient.log_plot as an output of this run (in the run's project)."""
        return await self._client.log_plot(source, name, self.project, run_id=self.run_id, **options)

    async def log_object(self, obj: Any, name: str, **options: Any) -> ArtifactVersion:
        """AsyncClient.log_object as an output of this run (in the run's project)."""
        return await self._client.log_object(obj, name, self.project, run_id=self.run_id, **options)

    async def upsert_artifact(self, artifact: Artifact, *, distributed_id: str, **options: Any) -> Any:
        """AsyncClient.upsert_artifact into the run's project. The version the draft becomes is
        an output of the run that finishes it (finish_artifact)."""
        return await self._client.upsert_artifact(artifact, self.project, distributed_id=distributed_id, **options)

    async def finish_artifact(
        self, artifact: Artifact | str, *, distributed_id: str, **options: Any
    ) -> ArtifactVersion:
        """AsyncClient.finish_artifact as an output of this run: the version records this run as
        the one that produced it."""
        return await self._client.finish_artifact(
            artifact, self.project, distributed_id=distributed_id, run_id=self.run_id, **options
        )

    async def record_cache_key(self, cache_key: str, versions: Sequence[ArtifactVersion]) -> None:
        await self._client._call(
            self._lineage.RecordCacheKey,
            lpb.RecordCacheKeyRequest(
                run_id=self.run_id, cache_key=cache_key, version_ids=[v.version_id for v in versions]
            ),
        )

    async def finish(self, failed: bool = False) -> RunInfo:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        state = lpb.RUN_STATE_FAILED if failed else lpb.RUN_STATE_FINISHED
        resp = await self._client._call(self._lineage.FinishRun, lpb.FinishRunRequest(run_id=self.run_id, state=state))
        self.info = run_from_proto(resp.run)
        return self.info

    async def __aenter__(self) -> AsyncRun:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.finish(failed=et is not None)


class StepCache:
    """The step cache of an AsyncClient: `await client.cache.lookup(key)` -> output versions or None."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def lookup(self, cache_key: str, project: str | None = None) -> list[ArtifactVersion] | None:
        """Output versions of the newest finished run recorded under cache_key, or None."""
        return await self._client.cache_lookup(cache_key, project)


class Lineage(Feature):
    """Runs, lineage and step-cache methods of AsyncClient."""

    async def run(
        self,
        project: str | None = None,
        *,
        name: str = "",
        job_type: str = "",
        group: str = "",
        config: dict[str, Any] | None = None,
        heartbeat_timeout: int = 300,
    ) -> AsyncRun:
        """Starts a run: `async with await client.run(job_type="train") as run: ...`."""
        resp = await self._call(
            self._lineage.StartRun,
            lpb.StartRunRequest(
                project=project or self.project,
                name=name,
                job_type=job_type,
                group=group,
                config_json=metadata_json(config or {}, "config"),
                heartbeat_timeout_seconds=heartbeat_timeout,
            ),
        )
        run = AsyncRun(
            self._client, run_from_proto(resp.run), heartbeat_every=max(1.0, min(30.0, heartbeat_timeout / 3))
        )
        run._start_heartbeat()
        return run

    async def get_run(self, run_id: str) -> RunInfo:
        resp = await self._call(self._lineage.GetRun, lpb.GetRunRequest(run_id=run_id))
        return run_from_proto(resp.run)

    async def runs(self, project: str | None = None, *, job_type: str = "", group: str = "") -> list[RunInfo]:
        """Runs of a project, newest first."""
        out: list[RunInfo] = []
        async for page in self._pages(
            lambda tok: lpb.ListRunsRequest(
                project=project or self.project,
                job_type=job_type,
                group=group,
                page_size=500,
                page_token=tok,
            ),
            self._lineage.ListRuns,
        ):
            out.extend(run_from_proto(r) for r in page.runs)
        return out

    async def lineage(
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
        """The graph around a version (or "run:<id>"): direction "up", "down" or "both"."""
        if direction not in DIRECTIONS:
            raise InvalidArgument("direction must be 'up', 'down' or 'both'")
        text = ref if isinstance(ref, str) and ref.startswith("run:") else self._ref(ref)
        request = lpb.GetLineageRequest(
            ref=text,
            direction=DIRECTIONS[direction],
            depth=depth,
            artifact_type=artifact_type,
            job_type=job_type,
            limit=limit,
        )
        if as_of is not None:
            request.as_of.CopyFrom(_timestamp(as_of))
        resp = await self._call(self._lineage.GetLineage, request)
        return LineageGraph(
            root=_node(resp.root),
            nodes=[_node(n) for n in resp.nodes],
            edges=[LineageEdge(e.source, e.target, e.kind) for e in resp.edges],
            truncated=resp.truncated,
        )

    async def logged_by(self, ref: str | ArtifactVersion) -> list[RunInfo]:
        """The run that logged this version (empty when it was logged outside a run)."""
        return await self._adjacent_runs(ref, "up")

    async def used_by(self, ref: str | ArtifactVersion) -> list[RunInfo]:
        """The runs that used this version, oldest first."""
        return sorted(await self._adjacent_runs(ref, "down"), key=lambda r: r.started_at)

    async def _adjacent_runs(self, ref: str | ArtifactVersion, direction: str) -> list[RunInfo]:
        graph = await self.lineage(ref, direction=direction, depth=1, limit=10_000)
        return [await self.get_run(n.id) for n in graph.nodes if n.kind == "run"]

    async def cache_lookup(self, cache_key: str, project: str | None = None) -> list[ArtifactVersion] | None:
        """The outputs recorded under cache_key by the newest finished run, or None (a miss)."""
        resp = await self._call(
            self._lineage.LookupCache,
            lpb.LookupCacheRequest(project=project or self.project, cache_key=cache_key),
        )
        return [self._version(v) for v in resp.versions] if resp.hit else None


def parse_as_of(text: str | None) -> datetime | None:
    """--as-of of the CLI: "2d", "yesterday", ISO 8601 … (see _when.py)."""
    from ._when import as_of_datetime

    return as_of_datetime(text)
