"""Client: the blocking SDK, AsyncClient run on a private background loop (see _loop.py).

Its methods are generated from AsyncClient's by one wrapper (_blocking.py), so they keep the
async methods' names, signatures and docstrings; client.pyi declares them for editors and mypy
(written by scripts/gen_sdk_stubs.py, checked by tests/sdk/test_sdk_blocking.py).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from . import run as _run  # noqa: F401  (registers Run and Cache, the blocking AsyncRun and StepCache)
from ._blocking import blocking
from ._loop import LoopThread, shutdown
from .aclient import AsyncClient

T = TypeVar("T")

# AsyncClient members with no blocking flavour: byte streams for async servers, cache.lookup's
# helper, and the connection settings (Client has address and project of its own).
ASYNC_ONLY = frozenset({"stream_file", "find_file", "cache_lookup", "api_key", "timeout", "retry_deadline"})


@blocking(AsyncClient, exclude=ASYNC_ONLY)
class Client:
    """The blocking arkive client. Same arguments and methods as AsyncClient.

    client = arkive.Client()                                 # local gateway, project "default"
    version = client.log_artifact(art, project="demo", aliases=["best"])
    path = client.use_artifact("demo/mnist:best").download("restored/")
    """

    _is_async = False
    _aclient: AsyncClient
    _runner: LoopThread
    _finalizer: weakref.finalize[Any, Any]

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
        self._runner = LoopThread()
        # Closes the channel and stops the thread if the user forgets close().
        self._finalizer = weakref.finalize(self, shutdown, self._runner, aclient.close)

    @property
    def _async(self) -> AsyncClient:
        return self._aclient

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
        """Closes the connection and stops the client's loop thread (also done when it is collected)."""
        self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
