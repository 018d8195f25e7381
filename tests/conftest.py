"""Session fixtures shared by every integration test.

- `infra`: NATS (JetStream), PostgreSQL and SeaweedFS S3 on free ports in a pytest temp dir, no
  services. For contract tests of the event log, bus and blob store.
- `stack`: the five arkive services (one replica each) on top of `infra`'s servers; its gateway
  answers the gRPC health check before the fixture yields.

Both yield an `arkive_stack.Stack`; use its `env` (dict of every ARKIVE_* variable), `nats_url`,
`database_url`, `s3_endpoint` and (for `stack`) `gateway_addr`. S3 credentials, bucket and region
are in `env` (ARKIVE_S3_ACCESS_KEY, ...). One stack serves the whole session: isolate tests by
project, bucket and stream names. Nothing starts unless a test requests one of the fixtures.
The fixtures ignore ARKIVE_* variables in the caller's environment (tests never touch a dev stack).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import FrameType

import pytest
import pytest_asyncio
from arkive_core.credentials import write_credentials
from arkive_core.tokens import new_token
from support import scratch_dir

from arkive_stack import Stack, StackConfig

GC_FLOOR = "ARKIVE_GC_MIN_GRACE_SECONDS"


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """pytest dies on SIGTERM without running fixture teardown or atexit hooks; turning it into
    KeyboardInterrupt makes pytest tear down (and stop the servers) as on Ctrl-C."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    """Data and logs of the session's `infra` (infra/) and `stack` (services/)."""
    with scratch_dir("arkive-session-") as path:
        yield path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def infra(stack_dir: Path) -> AsyncIterator[Stack]:
    """The three servers (no services), started once per session."""
    stack = Stack(StackConfig.for_tests(stack_dir / "infra", services=()))
    with _sigterm_as_interrupt():
        await stack.start()
        try:
            yield stack
        finally:
            await stack.stop()


@pytest.fixture(scope="session")
def admin_token() -> str:
    """The session stack's bootstrap token (a global admin): every test sends it by default. Also in
    the process environment from the start, for session and module fixtures that start processes."""
    token = str(new_token())
    os.environ["ARKIVE_API_KEY"] = token
    return token


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(infra: Stack, stack_dir: Path, admin_token: str) -> AsyncIterator[Stack]:
    """All five services on `infra`'s servers; ready when the gateway's health check says SERVING."""
    cfg = StackConfig.for_tests(stack_dir / "services", api_key=admin_token, **infra.server_settings())
    # No scheduled retention in the shared services (they inherit this environment): a run in the
    # middle of the session would delete what other tests' TTLs and policies only plan.
    # test_retention_schedule.py starts a retention replica of its own with a short interval.
    os.environ.setdefault("ARKIVE_RETENTION_INTERVAL", "0")
    # Lag gauges (outbox, consumers, dead letters) sampled every second: test_metrics.py waits on them.
    os.environ.setdefault("ARKIVE_METRICS_INTERVAL", "1")
    # The buckets the reference tests create (refs-…, refv-…, refd-…, refr-…): s3:// references read
    # only buckets on this allow list (none by default).
    os.environ.setdefault("ARKIVE_REFERENCE_S3_BUCKETS", "refs-*,refv-*,refd-*,refr-*")
    services = Stack(cfg)
    # The services inherit this process's environment: tests sweep with grace 0, which the default
    # floor (one hour) refuses. Set for the session (a restarted service must see it too).
    previous = os.environ.get(GC_FLOOR)
    os.environ[GC_FLOOR] = "0"
    try:
        await services.start()
        try:
            yield services
        finally:
            await services.stop()
    finally:
        if previous is None:
            os.environ.pop(GC_FLOOR, None)
        else:
            os.environ[GC_FLOOR] = previous


@pytest.fixture(autouse=True)
def _admin_credentials(
    admin_token: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test (and every CLI subprocess, even one whose environment drops ARKIVE_* variables)
    authenticates as the session stack's admin: ARKIVE_API_KEY and a credentials file in a private
    XDG_CONFIG_HOME (never the user's ~/.config/arkive)."""
    config = tmp_path_factory.mktemp("config")
    write_credentials(config / "arkive" / "credentials", admin_token)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("ARKIVE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("ARKIVE_API_KEY", admin_token)
    return config / "arkive" / "credentials"


@pytest.fixture(autouse=True)
def _private_blob_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own SDK blob/stat cache (never ~/.cache/arkive); XDG_CACHE_HOME also
    reaches CLI subprocesses, whose environment drops ARKIVE_* variables."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ARKIVE_CACHE_DIR", str(path / "arkive"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    monkeypatch.delenv("ARKIVE_CACHE", raising=False)
    monkeypatch.delenv("ARKIVE_CACHE_SIZE", raising=False)
    return path / "arkive"
