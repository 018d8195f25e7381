"""Errors raised by the launcher; each carries enough text to diagnose without opening log files."""

from __future__ import annotations

from pathlib import Path


class StackError(RuntimeError):
    """The stack could not be started or kept running."""


class ProcessDiedError(StackError):
    """A managed process exited while it was expected to run (during start-up or in `Stack.run()`)."""

    def __init__(self, name: str, returncode: int | None, log_path: Path, log_tail: str, when: str) -> None:
        self.name = name
        self.returncode = returncode
        self.log_path = log_path
        self.log_tail = log_tail
        self.when = when
        super().__init__(f"{name} exited with code {returncode} {when}; last lines of {log_path}:\n{log_tail}")


class StartTimeoutError(StackError):
    """A process did not become ready in time."""

    def __init__(self, what: str, timeout: float, log_path: Path | None, log_tail: str) -> None:
        self.what = what
        self.log_path = log_path
        self.log_tail = log_tail
        where = f"; last lines of {log_path}:\n{log_tail}" if log_path else ""
        super().__init__(f"{what} not ready after {timeout:.0f} s{where}")
