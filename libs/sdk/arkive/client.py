"""Client: the blocking SDK, a thin wrapper running AsyncClient on a private background loop.

The loop lives in its own daemon thread, so the blocking methods work the same in scripts and
inside Jupyter (whose own loop is already running and must not be re-entered).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Coroutine, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from ._blob_stats import BlobStats
from ._consumers import SyncConsumersMixin
from ._projects import SyncProjectsMixin
from ._references import SyncRegisterMixin
from ._registry import SyncRegistryMixin
from ._scrub import ScrubResult
from ._status import SyncStatusMixin
from ._sync_aliases import SyncAliasMixin
from ._sync_catalog import SyncCatalogMixin
from ._sync_checkout import SyncCheckoutMixin
from ._sync_diff import SyncDiffMixin
from ._sync_retention import SyncRetentionMixin
from ._sync_runs import SyncLineageMixin
from ._sync_typed import SyncTypedMixin
from .aclient import AsyncClient, VersionRef
from .artifact import Artifact
from .auth import SyncAuthMixin
from .version import ArtifactCollection, ArtifactVersion, DownloadResult, Draft, FileInfo, UpsertResult

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="arkive-client-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a blocking arkive.Client method was called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        fut = self.submit(coro)
        try:
            return fut.result()
        except KeyboardInterrupt:
            # Ctrl-C lands in the calling thread; stop the work on the loop too.
            fut.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


async def _anext(agen: AsyncIterator[T]) -> T:
    # run_coroutine_threadsafe wants a real coroutine, which __anext__() is not.
    return await agen.__anext__()


def _shutdown(runner: _LoopThread, aclient: AsyncClient) -> None:
    if runner.loop.is_closed() or not runner.thread.is_alive():
        return
    try:
        runner.run(aclient.close())
    except Exception:
        pass
    runner.stop()


class Client(
    SyncAliasMixin,
    SyncDiffMixin,
    SyncLineageMixin,
    SyncRetentionMixin,
    SyncCatalogMixin,
    SyncRegistryMixin,
    SyncProjectsMixin,
    SyncTypedMixin,
    SyncCheckoutMixin,
    SyncRegisterMixin,
    SyncConsumersMixin,
    SyncStatusMixin,
    SyncAuthMixin,
):
    """The blocking arkive client. Same arguments and methods as AsyncClient.

    client = arkive.Client()                                 # local gateway, project "default"
    version = client.log_artifact(art, project="demo", aliases=["best"])
    path = client.use_artifact("demo/mnist:best").download("restored/")
    """

    _is_async = False

    def __init__(
        self,
        address: str | None = None,
        project: str | None = None,
        *,
        timeout: float = 120.0,
        progress: bool | None = None,
        retry_deadline: float | None = None,
        api_key: str | None = None,
    ) -> None:
        # Validate arguments (and fail) before starting a thread.
        aclient = AsyncClient(
            address, project, timeout=timeout, progress=progress, retry_deadline=retry_deadline, api_key=api_key
        )
        aclient._owner_ref = weakref.ref(self)  # weak: the finalizer below holds aclient
        self._aclient = aclient
        self._runner = _LoopThread()
        # Closes the channel and stops the thread if the user forgets close().
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, aclient)

    @property
    def address(self) -> str:
        return self._aclient.address

    @property
    def project(self) -> str:
        return self._aclient.project

    def __repr__(self) -> str:
        return f"Client(address={self.address!r}, project={self.project!r})"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if not self._finalizer.alive:
            coro.close()
            raise RuntimeError("this arkive.Client is closed")
        return self._runner.run(coro)

    def _submit_async(self, coro: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """Runs coro on this client's loop and returns an awaitable for the caller's loop."""
        if not self._finalizer.alive:
            coro.close()
            raise RuntimeError("this arkive.Client is closed")
        return asyncio.wrap_future(self._runner.submit(coro))

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def log_artifact(
        self,
        artifact: Artifact,
        project: str | None = None,
        *,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
        ttl: Any = "inherit",
    ) -> ArtifactVersion:
        """See AsyncClient.log_artifact."""
        return self._run(
            self._aclient.log_artifact(
                artifact, project, aliases=aliases, tags=tags, label=label, run_id=run_id, ttl=ttl
            )
        )

    def upsert_artifact(
        self,
        artifact: Artifact,
        project: str | None = None,
        *,
        distributed_id: str,
        overwrite: bool = False,
        start_new: bool = False,
    ) -> UpsertResult:
        """See AsyncClient.upsert_artifact: adds files to the distributed draft `distributed_id`."""
        return self._run(
            self._aclient.upsert_artifact(
                artifact, project, distributed_id=distributed_id, overwrite=overwrite, start_new=start_new
            )
        )

    def finish_artifact(
        self,
        artifact: Artifact | str,
        project: str | None = None,
        *,
        distributed_id: str,
        metadata: dict[str, Any] | None = None,
        description: str = "",
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
    ) -> ArtifactVersion:
        """See AsyncClient.finish_artifact: commits the distributed draft as exactly one version."""
        return self._run(
            self._aclient.finish_artifact(
                artifact,
                project,
                distributed_id=distributed_id,
                metadata=metadata,
                description=description,
                aliases=aliases,
                tags=tags,
                label=label,
                run_id=run_id,
            )
        )

    def drafts(self, project: str | None = None, idle_seconds: float = 0) -> list[Draft]:
        """Open drafts of a project; with idle_seconds, only those unchanged for that long."""
        return self._run(self._aclient.drafts(project, idle_seconds))

    def abort_draft(self, draft: str | Draft) -> None:
        """Aborts an open draft (its files are forgotten)."""
        self._run(self._aclient.abort_draft(draft))

    def get_version(self, ref: VersionRef, *, as_of: datetime | float | str | None = None) -> ArtifactVersion:
        """Resolves "[project/]name[:vN|alias|label]" (or a version id) to one version; see
        AsyncClient.get_version for as_of."""
        return self._run(self._aclient.get_version(ref, as_of=as_of))

    def use_artifact(
        self, ref: VersionRef, *, type: str | None = None, as_of: datetime | float | str | None = None
    ) -> ArtifactVersion:
        """Like get_version, checking the type when given; call .download() on the result."""
        return self._run(self._aclient.use_artifact(ref, type=type, as_of=as_of))

    def versions(self, name: str) -> list[ArtifactVersion]:
        """Every version of "[project/]name", newest first."""
        return self._run(self._aclient.versions(name))

    def artifacts(self, project: str | None = None, type: str | None = None) -> list[ArtifactCollection]:
        """The artifact collections of a project, optionally only those of one type."""
        return self._run(self._aclient.artifacts(project, type))

    def files(self, ref: VersionRef, *, path_prefix: str | None = None) -> Iterator[FileInfo]:
        """(path, digest, size) of every file of a version (in folder path_prefix), sorted by path, fetched lazily."""
        agen = self._aclient.files(ref, path_prefix=path_prefix)
        try:
            while True:
                try:
                    yield self._run(_anext(agen))
                except StopAsyncIteration:
                    return
        finally:
            if self._finalizer.alive and isinstance(agen, AsyncGenerator):
                self._run(agen.aclose())

    def download(
        self, ref: VersionRef, root: str | os.PathLike[str] | None = None, *, path_prefix: str | None = None
    ) -> DownloadResult:
        """See AsyncClient.download."""
        return self._run(self._aclient.download(ref, root, path_prefix=path_prefix))

    def rebuild_projections(self) -> dict[str, int]:
        """Replays the event log into every read model; returns events replayed per service."""
        return self._run(self._aclient.rebuild_projections())

    def blob_stats(self) -> BlobStats:
        """See AsyncClient.blob_stats."""
        return self._run(self._aclient.blob_stats())

    def scrub(self, *, sample: int | None = None) -> ScrubResult:
        """See AsyncClient.scrub."""
        return self._run(self._aclient.scrub(sample=sample))
