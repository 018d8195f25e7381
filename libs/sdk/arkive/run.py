"""Run and the step cache of the blocking Client: AsyncRun and the async step cache, run on the
client's loop. Their methods are generated from the async ones (_blocking.py); run.pyi declares them."""

from __future__ import annotations

from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from ._blocking import adapts, blocking
from .runs import AsyncRun, RunInfo, StepCache

T = TypeVar("T")


class _OnClientLoop:
    """Runs the wrapped async object's coroutines on the blocking client's loop."""

    def __init__(self, client: Any, wrapped: Any) -> None:
        self._client = client
        self._wrapped = wrapped

    @property
    def _async(self) -> Any:
        return self._wrapped

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._client._run(coro)


@adapts(AsyncRun)
@blocking(AsyncRun)
class Run(_OnClientLoop):
    """A run, used as `with client.run(job_type="train") as run:`; see AsyncRun."""

    _wrapped: AsyncRun

    @property
    def run_id(self) -> str:
        return self._wrapped.run_id

    @property
    def project(self) -> str:
        return self._wrapped.project

    @property
    def name(self) -> str:
        return self._wrapped.name

    @property
    def info(self) -> RunInfo:
        return self._wrapped.info

    def __repr__(self) -> str:
        return repr(self._wrapped)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.finish(failed=et is not None)


@adapts(StepCache)
@blocking(StepCache)
class Cache(_OnClientLoop):
    """The step cache of a Client: `client.cache.lookup(key)` -> output versions or None."""
