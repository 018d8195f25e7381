"""One stack per data directory: an advisory lock, released when the stack stops (or the process dies)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import StackError


def lock(data: Path) -> int:
    """Create `data` if needed and lock it; returns the descriptor to pass to `unlock`."""
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(data / ".stack.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise StackError(f"{data} is in use by another arkive stack (pid {holder})") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def unlock(fd: int) -> None:
    os.close(fd)
