"""The private event loop a blocking Client runs its AsyncClient on, in a daemon thread.

Its own thread makes the blocking methods work the same in scripts and inside Jupyter (whose own
loop is already running and must not be re-entered).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
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


def shutdown(runner: LoopThread, close: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Runs close() (the AsyncClient's) on the loop, then stops the loop's thread."""
    if runner.loop.is_closed() or not runner.thread.is_alive():
        return
    try:
        runner.run(close())
    except Exception:
        pass
    runner.stop()
