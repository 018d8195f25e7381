"""Byte progress bars on stderr, only for humans watching a terminal.

Transfers report through a tiny interface so the logic stays testable and silent by default: JSON
output, pipes, CI logs and notebooks without a tty get NullProgress.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any


class NullProgress:
    """Accepts progress reports and shows nothing."""

    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        pass


class RichProgress(NullProgress):
    """One rich bar per phase ("hashing", "uploading", "downloading") with speed and ETA."""

    def __init__(self) -> None:
        # Imported here: rich is slow-ish to import and most SDK uses never show a bar.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: Any = None
        # advance() is called from hashing threads and the event loop thread at once.
        self._lock = threading.Lock()

    def phase(self, description: str, total: int) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.update(self._task, completed=self._progress.tasks[-1].total)
            self._task = self._progress.add_task(description, total=total)

    def advance(self, n: int) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.advance(self._task, n)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()


def make_progress(enabled: bool | None) -> NullProgress:
    """enabled=None means: show bars iff stderr is a terminal."""
    if enabled is None:
        enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
    return RichProgress() if enabled else NullProgress()
