"""--profile DIR: cProfile of the benchmark's SDK calls (event-loop thread) and of every service."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import sys
from collections.abc import Iterator
from pathlib import Path

from arkive_stack import SERVICES


def service_commands(profile_dir: Path | None) -> dict[str, list[str]] | None:
    """Runs each service under `python -m cProfile`; the services stop gracefully on SIGTERM, so
    each writes DIR/<service>.prof when the stack stops (main thread only: not hashing threads)."""
    if profile_dir is None:
        return None
    profile_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: [sys.executable, "-m", "cProfile", "-o", str(profile_dir / f"{name}.prof"), "-m", f"arkive_{name}"]
        for name in SERVICES
    }


@contextlib.contextmanager
def profiled(profile_dir: Path | None, name: str) -> Iterator[None]:
    """Profiles the block into DIR/client-<name>.prof (no-op without a directory)."""
    if profile_dir is None:
        yield
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        prof.dump_stats(profile_dir / f"client-{name}.prof")


def top(path: Path, n: int = 20, sort: str = "tottime") -> str:
    """The n most expensive functions of a .prof file, as pstats prints them."""
    out = io.StringIO()
    pstats.Stats(str(path), stream=out).strip_dirs().sort_stats(sort).print_stats(n)
    return out.getvalue()
