"""The launcher: servers keep data across restarts, failures are reported, nothing is left behind."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
from aiobotocore.session import get_session
from nats.errors import Error as NatsError
from support import assert_eventually, scratch_dir

from arkive_stack import ProcessDiedError, Stack, StackConfig, StackError
from arkive_stack.probes import grpc_serving
from arkive_stack.status import all_listening

PY = sys.executable

FAKE_GATEWAY = textwrap.dedent(
    """
    import asyncio, os
    import grpc
    from grpc_health.v1 import health, health_pb2_grpc

    async def main():
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        server.add_insecure_port(os.environ["ARKIVE_GATEWAY_ADDR"])
        await server.start()
        print("fake gateway serving", os.getpid(), flush=True)
        await server.wait_for_termination()

    asyncio.run(main())
    """
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """For tests that start PostgreSQL themselves (see conftest.scratch_dir for why not tmp_path)."""
    with scratch_dir() as path:
        yield path


def external(infra: Stack, data_dir: Path, **overrides: object) -> StackConfig:
    """A config that reuses the session's servers, so only service processes start."""
    # the session's admin token: the servers (and their principals) are the session's too
    settings = {**infra.server_settings(), "api_key": os.environ["ARKIVE_API_KEY"]}
    return StackConfig.for_tests(data_dir, **{**settings, **overrides})


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(pids: list[int], data_dir: Path) -> None:
    """None of `pids` runs, and no process mentions `data_dir` on its command line."""
    assert not [pid for pid in pids if alive(pid)]
    leftovers = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        if any(str(data_dir) in arg for arg in p.info["cmdline"] or ()):
            leftovers.append(p.info)
    assert not leftovers, leftovers


def s3_client(stack: Stack):  # type: ignore[no-untyped-def]
    env = stack.env
    return get_session().create_client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        aws_access_key_id=env["ARKIVE_S3_ACCESS_KEY"],
        aws_secret_access_key=env["ARKIVE_S3_SECRET_KEY"],
        region_name=env["ARKIVE_S3_REGION"],
    )


@pytest.mark.slow
async def test_restart_keeps_postgres_nats_and_s3_data(data_dir: Path) -> None:
    data = data_dir
    first = Stack(StackConfig.for_tests(data, services=()))
    t0 = time.monotonic()
    await first.start()
    started = time.monotonic() - t0
    conn = await asyncpg.connect(first.database_url)
    await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('row-1')")
    await conn.close()
    nc = await nats.connect(first.nats_url)
    js = nc.jetstream()
    await js.add_stream(name="KEPT", subjects=["kept.>"])
    await js.publish("kept.a", b"msg-1")
    await nc.close()
    async with s3_client(first) as s3:
        await s3.create_bucket(Bucket="kept-bucket")
        await s3.put_object(Bucket="kept-bucket", Key="k/1", Body=b"object-1")
    pids = [p.pid for p in first.processes if p.pid]
    t0 = time.monotonic()
    await first.stop()  # for_tests: SeaweedFS is SIGKILLed after 3 s, which must not lose the object
    stopped = time.monotonic() - t0
    await first.stop()  # idempotent
    assert_all_gone(pids, data)
    # As a data dir from before the closed internal plane: no secrets, PostgreSQL trusting everyone.
    # The next start migrates it (a new password set on the role, pg_hba.conf rewritten).
    old_password = (data / "secrets" / "postgres-password").read_text().strip()
    shutil.rmtree(data / "secrets")
    (data / "postgres" / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")

    async with Stack(StackConfig.for_tests(data, services=())) as second:
        conn = await asyncpg.connect(second.database_url)
        assert await conn.fetchval("SELECT v FROM kept") == "row-1"
        await conn.close()
        plain = second.env["ARKIVE_DATABASE_URL"]
        for password in (None, old_password):
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(plain, password=password)
        with pytest.raises(NatsError, match="Authorization Violation"):
            await nats.connect(second.env["ARKIVE_NATS_URL"], allow_reconnect=False, max_reconnect_attempts=0)
        nc = await nats.connect(second.nats_url)
        msg = await nc.jetstream().get_last_msg("KEPT", "kept.a")
        assert msg.data == b"msg-1"
        await nc.close()
        async with s3_client(second) as s3:
            got = await s3.get_object(Bucket="kept-bucket", Key="k/1")
            assert await got["Body"].read() == b"object-1"
            await s3.create_bucket(Bucket="second-bucket")  # new volumes still writable
            await s3.put_object(Bucket="second-bucket", Key="x", Body=b"x")
        pids = [p.pid for p in second.processes if p.pid]
    assert_all_gone(pids, data)
    print(f"\ninfra start {started:.1f} s, stop {stopped:.1f} s")


async def test_without_restarts_a_dying_service_stops_everything(infra: Stack, tmp_path: Path) -> None:
    dies = "import os, sys, time; print('url', os.environ['ARKIVE_NATS_URL'], flush=True); time.sleep(1); "
    dies += "print('boom', flush=True); sys.exit(3)"
    stack = Stack(
        external(infra, tmp_path, services=("ingest", "hashing"), replicas=2, restart_limit=0),
        service_commands={"ingest": [PY, "-c", "import time; time.sleep(600)"], "hashing": [PY, "-c", dies]},
    )
    await stack.start()
    assert [p.name for p in stack.services] == ["ingest-1", "ingest-2", "hashing-1", "hashing-2"]
    assert stack.env["ARKIVE_NATS_URL"] == infra.env["ARKIVE_NATS_URL"]
    pids = [p.pid for p in stack.processes if p.pid]
    with pytest.raises(ProcessDiedError) as err:
        await asyncio.wait_for(stack.run(handle_signals=False), 20)
    assert err.value.name.startswith("hashing-") and err.value.returncode == 3
    assert "boom" in err.value.log_tail and f"url {infra.env['ARKIVE_NATS_URL']}" in err.value.log_tail
    assert_all_gone(pids, tmp_path)


async def test_a_killed_service_is_restarted_alone_and_a_crash_loop_stops_everything(
    infra: Stack, tmp_path: Path
) -> None:
    flaky = "import sys, time; print('up', flush=True); time.sleep(0.3); sys.exit('flaky gave up')"
    lines: list[str] = []
    cfg = external(infra, tmp_path, services=("ingest", "lineage", "hashing"), restart_delay=0.05, restart_limit=3)
    sleeper = [PY, "-c", "import time; time.sleep(600)"]
    stack = Stack(cfg, service_commands={"ingest": sleeper, "lineage": sleeper, "hashing": sleeper}, log=lines.append)
    await stack.start()
    ingest, lineage, hashing = stack.services
    running = asyncio.create_task(stack.run(handle_signals=False))
    try:
        first = ingest.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await ingest.wait_restarts(1, timeout=10)
        assert ingest.pid != first and ingest.exits == [-signal.SIGKILL]
        assert (lineage.restarts, hashing.restarts) == (0, 0)
        assert any(line.startswith("ingest exited with code -9 (SIGKILL); restarted in 0.") for line in lines)
        # hashing now exits 0.3 s after every start: restarted 3 times (0.05, 0.1, 0.2 s backoff),
        # then the 4th exit within the window stops the stack
        hashing.argv = [PY, "-c", flaky]
        hashing.signal_group(signal.SIGTERM)
        with pytest.raises(ProcessDiedError, match=r"after 3 restarts within 60 s \(crash loop\)") as err:
            await asyncio.wait_for(running, 30)
    finally:
        stack.request_stop()
        await asyncio.gather(running, return_exceptions=True)
    assert err.value.name == "hashing" and err.value.returncode == 1 and "flaky gave up" in err.value.log_tail
    assert hashing.restarts == 3 and hashing.exits == [-signal.SIGTERM, 1, 1]
    restarted = [line for line in lines if line.startswith("hashing exited") and "restarted in" in line]
    assert [line.split("(restart ")[1].split(",")[0] for line in restarted] == ["1", "2", "3"]
    assert ingest.restarts == 1 and lineage.restarts == 0
    assert_all_gone([p.pid for p in stack.processes if p.pid], tmp_path)


async def test_gateway_replicas_share_one_port(infra: Stack, tmp_path: Path) -> None:
    cfg = external(infra, tmp_path, services=("gateway",), replicas=2)
    async with Stack(cfg, service_commands={"gateway": [PY, "-c", FAKE_GATEWAY]}) as stack:
        gateways = stack.services
        port = int(stack.gateway_addr.rsplit(":", 1)[1])
        assert all_listening(gateways, port)
        assert await grpc_serving(stack.gateway_addr)
        pids = [p.pid for p in gateways if p.pid]
    assert_all_gone(pids, tmp_path)


async def test_start_failure_carries_log_tail_and_cleans_up(infra: Stack, tmp_path: Path) -> None:
    crash = "import time, sys; time.sleep(0.3); sys.exit('gateway cannot start: no config')"
    stack = Stack(
        external(infra, tmp_path, services=("ingest", "gateway")),
        service_commands={"ingest": [PY, "-c", "import time; time.sleep(600)"], "gateway": [PY, "-c", crash]},
    )
    with pytest.raises(ProcessDiedError, match="gateway cannot start"):
        await stack.start()
    assert all(p.returncode is not None for p in stack.processes)
    assert_all_gone([p.pid for p in stack.processes if p.pid], tmp_path)


async def test_exception_inside_async_with_stops_everything(infra: Stack, tmp_path: Path) -> None:
    cfg = external(infra, tmp_path, services=("retention",))
    stack = Stack(cfg, service_commands={"retention": [PY, "-c", "import time; time.sleep(600)"]})
    with pytest.raises(RuntimeError, match="test body failed"):
        async with stack:
            raise RuntimeError("test body failed")
    assert_all_gone([p.pid for p in stack.processes if p.pid], tmp_path)


async def test_one_stack_per_data_dir_and_bad_external_url(infra: Stack, tmp_path: Path) -> None:
    async with Stack(external(infra, tmp_path, services=())):
        with pytest.raises(StackError, match="in use by another arkive stack"):
            await Stack(external(infra, tmp_path, services=())).start()
    bad = external(infra, tmp_path / "bad", services=(), nats_url="nats://127.0.0.1:9")
    with pytest.raises(StackError, match=r"ARKIVE_NATS_URL=nats://127\.0\.0\.1:9 is set"):
        await Stack(bad).start()


async def test_arkive_up_prints_env_and_stops_on_sigterm(infra: Stack, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_S3_ENDPOINT"] = infra.s3_endpoint  # external S3: starts nats + postgres only
    argv = [PY, "-m", "arkive_stack", "--data-dir", str(data_dir), "--services", "none"]
    argv += ["--nats-port", "0", "--postgres-port", "0"]
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        lines: list[str] = []
        while not any(line.startswith("export ARKIVE_GATEWAY_ADDR=") for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, (await proc.stderr.read()).decode()
            lines.append(line)
        exported = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines)
        assert exported["ARKIVE_S3_ENDPOINT"] == infra.s3_endpoint
        assert exported["ARKIVE_NATS_URL"].startswith("nats://127.0.0.1:")
        launcher = psutil.Process(proc.pid)
        assert sorted(c.name() for c in launcher.children()) == ["nats-server", "postgres"]
        children = [c.pid for c in launcher.children(recursive=True)]  # with postgres' workers
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert_all_gone(children, data_dir)


ABANDONING_LAUNCHER = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    from arkive_stack import Stack, StackConfig

    async def main():
        urls = json.loads(os.environ["TEST_URLS"])
        cfg = StackConfig.for_tests(Path(sys.argv[1]), services=("ingest", "hashing"), **urls)
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        stack = Stack(cfg, service_commands={"ingest": sleeper, "hashing": sleeper})
        await stack.start()
        print(json.dumps([p.pid for p in stack.processes]), flush=True)
        if sys.argv[2] == "wait":
            await asyncio.sleep(600)
        # "exit": return without stop(); only the atexit hook is left to clean up

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
async def test_children_do_not_outlive_an_abandoning_launcher(infra: Stack, tmp_path: Path, how: str) -> None:
    """Safety nets: the atexit hook (exit without stop()) and the parent-death signal (SIGKILL)."""
    urls = {"nats_url": infra.nats_url, "database_url": infra.database_url, "s3_endpoint": infra.s3_endpoint}
    env = {**os.environ, "TEST_URLS": json.dumps(urls)}
    mode = "exit" if how == "exit" else "wait"
    proc = await asyncio.create_subprocess_exec(
        PY, "-c", ABANDONING_LAUNCHER, str(tmp_path), mode, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    pids = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
    assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    if how == "sigkill":
        # setpriv sets the parent-death signal, then execs the command: a parent killed before
        # that (a loaded machine) leaves a child that will never be told. Kill once they exec'd.
        def execd() -> None:
            assert all("setpriv" not in psutil.Process(p).cmdline()[0] for p in pids)

        await assert_eventually(execd, timeout=15)
        proc.kill()
    await asyncio.wait_for(proc.wait(), 10)
    # Generous: the kernel signals at once, but a loaded CI machine schedules the exits late.
    await assert_eventually(lambda: assert_all_gone(pids, tmp_path), timeout=15)
