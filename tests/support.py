"""Helpers for tests: `from support import assert_eventually` (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


async def assert_eventually(
    check: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    interval: float = 0.05,
    *,
    retry_on: tuple[type[BaseException], ...] = (AssertionError,),
) -> T:
    """Call `check` (sync or async function, no arguments) until it passes, and return its result.

    It fails a round by raising one of `retry_on` (AssertionError by default) or by returning
    exactly False (so predicates work; None, as returned by assert-style functions, passes).
    After `timeout` seconds the last failure is raised (AssertionError for a False result).
    """
    if inspect.iscoroutine(check):
        raise TypeError("pass the async function itself (or a lambda calling it), not a coroutine object")
    deadline = time.monotonic() + timeout
    while True:
        failure: BaseException
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except retry_on as e:
            failure = e
        else:
            if result is not False:
                return result  # type: ignore[return-value]
            failure = AssertionError(f"{getattr(check, '__qualname__', check)!s} still False after {timeout} s")
        if time.monotonic() >= deadline:
            raise failure
        await asyncio.sleep(interval)


@contextlib.contextmanager
def scratch_dir(prefix: str = "arkive-test-") -> Iterator[Path]:
    """A fresh directory under the system temp dir, removed afterwards.

    Not under pytest's basetemp: as root, PostgreSQL runs as a system user that must traverse every
    ancestor of its data dir, and each pytest session starting on the machine resets
    /tmp/pytest-of-<user> to mode 0700, which broke a running test session's PostgreSQL start.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if not os.environ.get("ARKIVE_TEST_KEEP"):  # set it to read a failed session's service logs
            shutil.rmtree(path, ignore_errors=True)
