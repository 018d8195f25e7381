"""One supervised child process: own process group, log file, graceful stop with a SIGKILL bound.

Every child runs in a new session, so a Ctrl-C in the terminal reaches only the launcher, which then
stops the children in order instead of racing them. Three safety nets keep children from outliving
the launcher: `Stack.stop()` (normal path), an atexit hook that kills whatever is still registered
(exceptions, sys.exit), and, where util-linux `setpriv` exists, a parent-death signal (launcher
SIGKILLed). The parent-death signal fires when the *thread* that spawned the child exits, so children
must be started from the long-lived thread running the event loop, never from a worker thread.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_LIVE: set[ManagedProcess] = set()
_atexit_registered = False
_KILL_GRACE = 3.0  # seconds the atexit hook allows for a graceful exit before SIGKILL


class ManagedProcess:
    """A child process in its own process group that logs to `log_path` (appended, one header per start)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_timeout: float = 10.0,
        user: int | None = None,
        group: int | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.user = user
        self.group = group
        self.expected_exit = False
        """Set once the launcher decided to stop it: an exit after that is not a failure."""
        self.restarts = 0
        """How often start() spawned it again after an exit (the supervisor's restarts)."""
        self.exits: list[int] = []
        """Return codes of the earlier runs that ended in a restart, oldest first."""
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def __repr__(self) -> str:
        return f"ManagedProcess({self.name!r}, pid={self.pid}, returncode={self.returncode})"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        """None while running (or never started); reaps the child when it has exited."""
        if self._popen is None:
            return None
        rc = self._popen.poll()
        if rc is not None:
            _LIVE.discard(self)
        return rc

    @property
    def running(self) -> bool:
        return self._popen is not None and self.returncode is None

    def start(self) -> None:
        """Spawn the child (synchronously, from the calling thread: see the module docstring). Once
        the previous run has exited (and was not stopped by stop()), start() spawns it again."""
        if self._popen is not None:
            rc = self.returncode
            if rc is None:
                raise RuntimeError(f"{self.name} already running")
            if self.expected_exit:
                raise RuntimeError(f"{self.name} was stopped")
            self.exits.append(rc)
            self.restarts += 1
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        _ensure_atexit()
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            header = f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} arkive_stack starts: {' '.join(self.argv)}\n"
            log.write(header.encode())
            log.flush()
            self._popen = subprocess.Popen(
                _with_parent_death_signal(self.argv, self.stop_signal),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                user=self.user,
                group=self.group,
                extra_groups=[] if self.group is not None else None,
            )
        _LIVE.add(self)

    def signal_group(self, sig: int) -> None:
        """Send `sig` to the child's whole process group (its own children included)."""
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def group_alive(self) -> bool:
        """True while any member of the child's process group is left (e.g. postgres backends
        after their postmaster was killed)."""
        if self._popen is None:
            return False
        try:
            os.killpg(self._popen.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    async def wait_restarts(self, count: int, timeout: float) -> None:
        """Wait until the process was restarted at least `count` times in total and the latest run
        is up (for tests); TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not (self.restarts >= count and self.running):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name}: {self.restarts} of {count} restarts after {timeout} s")
            await asyncio.sleep(0.02)

    async def stop(self, timeout: float | None = None) -> int | None:
        """Stop signal, wait up to `timeout` (default `stop_timeout`), then SIGKILL. Idempotent.

        Waits by polling with a monotonic deadline instead of asyncio.timeout(): stop() often runs in a
        task that is being cancelled (Ctrl-C), where 3.11's timeout() would turn into CancelledError.
        """
        if self._popen is None:
            return None
        self.expected_exit = True
        if self.returncode is None:
            self.signal_group(self.stop_signal)
            await self._wait_exit(self.stop_timeout if timeout is None else timeout)
            if self.returncode is None:
                self.signal_group(signal.SIGKILL)
                await self._wait_exit(None)
        # The leader is gone; stray members of its group (e.g. postgres backends) must not linger.
        self.signal_group(signal.SIGKILL)
        _LIVE.discard(self)
        return self.returncode

    async def _wait_exit(self, timeout: float | None) -> None:
        # Popen has no awaitable exit and asyncio's child watchers would need asyncio's own
        # subprocess API; polling every 50 ms costs nothing here.
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None and (deadline is None or time.monotonic() < deadline):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    def kill_now(self) -> None:
        """SIGKILL the group without waiting (signal handlers, atexit)."""
        if self._popen is not None:
            self.expected_exit = True
            self.signal_group(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines this run wrote (earlier runs in the same file are skipped)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                data = f.read()
        except OSError as e:
            return f"(cannot read {self.log_path}: {e})"
        text = data.decode(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _with_parent_death_signal(argv: list[str], sig: signal.Signals) -> list[str]:
    # setpriv sets PR_SET_PDEATHSIG and execs the command: same pid, no preexec_fn (which forces
    # fork() and runs Python in the child of a threaded process, unsafe next to grpc).
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return argv
    return [setpriv, f"--pdeathsig={sig.name.removeprefix('SIG')}", "--", *argv]


def _ensure_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(kill_all_live)
        _atexit_registered = True


def live_processes() -> list[ManagedProcess]:
    """Children started by this interpreter that were not stopped yet."""
    return [p for p in list(_LIVE) if p.returncode is None]


def kill_all_live(grace: float = _KILL_GRACE) -> None:
    """Synchronous last resort: stop signal to every live child, wait `grace` s, then SIGKILL."""
    procs = live_processes()
    for p in procs:
        p.expected_exit = True
        p.signal_group(p.stop_signal)
    deadline = time.monotonic() + grace
    while any(p.returncode is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    for p in procs:
        p.signal_group(signal.SIGKILL)
        if p._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p._popen.wait(1.0)
        _LIVE.discard(p)


def open_log_for_append(path: Path) -> IO[bytes]:
    """Open a log file the way `ManagedProcess` does (for helpers that log short-lived commands)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")
