"""Restarting processes that exit on their own, with backoff and a crash-loop limit.

`Stack.run()` owns one Supervisor. Each unexpected exit gets a restart task: kill what is left of
the process group (a SIGKILLed postmaster leaves backends that still hold its shared memory, and a
new postmaster refuses to start while they do), wait the backoff, respawn. The backoff starts at
`restart_delay` and doubles with every restart of that process counted in the last
`restart_window` seconds, up to `restart_max_delay`; the (restart_limit + 1)-th exit within the
window is a crash loop, and the supervisor gives up (run() then stops everything and raises).
Restarts of different processes are independent; a restart never touches the other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

from .config import StackConfig
from .errors import ProcessDiedError
from .processes import ManagedProcess

_GROUP_GONE_TIMEOUT = 5.0  # seconds to wait for the rest of a dead process' group to vanish


def describe_exit(rc: int) -> str:
    """ "code 3" or "code -9 (SIGKILL)"."""
    if rc < 0:
        with contextlib.suppress(ValueError):
            return f"code {rc} ({signal.Signals(-rc).name})"
    return f"code {rc}"


class Supervisor:
    """Watches `processes()` and restarts the ones that exit while they should run."""

    def __init__(
        self,
        config: StackConfig,
        processes: Callable[[], list[ManagedProcess]],
        log: Callable[[str], None],
        before_restart: Callable[[ManagedProcess], None] | None = None,
    ) -> None:
        self._cfg = config
        self._processes = processes
        self._log = log
        self._before_restart = before_restart
        self._restarted_at: dict[str, list[float]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.gave_up: ProcessDiedError | None = None
        """Set when a process crash-looped (or restarts are off): the stack must stop."""

    def check(self) -> None:
        """Start a restart task for every process that exited unexpectedly and has none yet."""
        for p in self._processes():
            if self.gave_up is not None:
                return
            if p.name in self._tasks or p.expected_exit or p.returncode is None:
                continue
            self._on_exit(p, p.returncode)

    def _on_exit(self, p: ManagedProcess, rc: int) -> None:
        now = time.monotonic()
        recent = [t for t in self._restarted_at.get(p.name, []) if now - t < self._cfg.restart_window]
        self._restarted_at[p.name] = recent
        if len(recent) >= self._cfg.restart_limit:
            if self._cfg.restart_limit == 0:
                when = "while the stack was running"
            else:
                when = f"after {len(recent)} restarts within {self._cfg.restart_window:.0f} s (crash loop)"
            self.gave_up = ProcessDiedError(p.name, rc, p.log_path, p.log_tail(), when)
            return
        delay = min(self._cfg.restart_delay * 2 ** len(recent), self._cfg.restart_max_delay)
        recent.append(now)
        self._tasks[p.name] = asyncio.create_task(self._restart(p, rc, delay), name=f"restart {p.name}")

    async def _restart(self, p: ManagedProcess, rc: int, delay: float) -> None:
        try:
            exited = time.monotonic()
            p.signal_group(signal.SIGKILL)
            deadline = exited + _GROUP_GONE_TIMEOUT
            while p.group_alive() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            await asyncio.sleep(max(0.0, exited + delay - time.monotonic()))
            if p.expected_exit:  # stop() began meanwhile
                return
            if self._before_restart is not None:
                self._before_restart(p)
            p.start()
            took = time.monotonic() - exited
            self._log(
                f"{p.name} exited with {describe_exit(rc)}; restarted in {took:.1f} s "
                f"(restart {p.restarts}, pid {p.pid})"
            )
        except Exception as exc:  # a failed spawn counts as one more exit of that process
            self.gave_up = self.gave_up or ProcessDiedError(
                p.name, rc, p.log_path, p.log_tail(), f"and could not be restarted: {exc}"
            )
        finally:
            self._tasks.pop(p.name, None)

    async def cancel(self) -> None:
        """Abandon pending restarts (before the stack stops)."""
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
