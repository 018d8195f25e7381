"""The OCI image (deploy/Containerfile), built by scripts/build_image.sh (what `make image` runs) and
run with podman: the five services in containers on the host network against the session's servers,
and a log and download through the containerised gateway with the SDK from the host.

Root only (buildah and podman run rootful here); the script installs the Debian tools it needs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from httpget import http_get, metric_samples, value
from isolated import isolated_env
from support import assert_eventually

import arkive
from arkive_stack.ports import free_port

pytestmark = [pytest.mark.deploy, pytest.mark.image]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "hashing", "lineage", "retention", "gateway")
PODMAN = ["podman", "--runtime", "runc"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@pytest.fixture(scope="module")
def image() -> str:
    if os.geteuid() != 0:
        pytest.skip("building and running the OCI image needs root here (rootful buildah and podman)")
    started = time.monotonic()
    done = subprocess.run(
        [ROOT / "scripts" / "build_image.sh"],
        env=os.environ | {"PY": sys.executable},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"scripts/build_image.sh failed:\n{done.stderr[-5000:]}"
    print(f"image built in {time.monotonic() - started:.1f} s")
    return done.stdout.strip().splitlines()[-1]


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    assert not check or done.returncode == 0, f"podman {' '.join(args)}: {done.stderr}"
    return done


def container_log(name: str) -> str:
    done = podman("logs", name, check=False)
    return f"--- {name}\n{(done.stdout + done.stderr)[-2000:]}"


def test_image_runs_as_non_root_without_compilers(image):
    out = podman("run", "--rm", *ULIMITS, "--entrypoint", "sh", image, "-c", "id -u; command -v gcc cc pip || true")
    assert out.stdout.split() == ["10001"]
    usage = podman("run", "--rm", *ULIMITS, image, "nonsense", check=False)
    assert usage.returncode == 2 and "gateway|ingest|hashing|lineage|retention|web" in usage.stderr


async def test_five_containers_serve_a_log_and_a_download(image, infra, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    taken: set[int] = set()
    gateway_addr = f"127.0.0.1:{free_port(taken)}"
    health = {s: free_port(taken) for s in SERVICES}
    names = {s: f"arkive-test-{s}-{run_id}" for s in SERVICES}
    async with isolated_env(infra) as env:
        arkive_env = {k: v for k, v in env.items() if k.startswith("ARKIVE_")}
        arkive_env |= {"ARKIVE_GATEWAY_ADDR": gateway_addr, "ARKIVE_HEALTH_HOST": "127.0.0.1"}
        try:
            for s in SERVICES:
                flags = [f"--env={k}={v}" for k, v in {**arkive_env, "ARKIVE_HEALTH_PORT": str(health[s])}.items()]
                await asyncio.to_thread(
                    podman, "run", "--detach", "--name", names[s], "--network", "host", *ULIMITS, *flags, image, s
                )

            async def all_ready() -> None:
                for s in SERVICES:
                    assert await http_get(health[s], "/readyz") == (200, "ready\n"), s

            try:
                await assert_eventually(all_ready, timeout=90, interval=0.5, retry_on=(AssertionError, OSError))
            except AssertionError:
                raise AssertionError(
                    "\n".join([await asyncio.to_thread(container_log, names[s]) for s in SERVICES])
                ) from None

            data = tmp_path / "data"
            (data / "sub").mkdir(parents=True)
            (data / "a.txt").write_text("hello from a container\n")
            (data / "sub" / "b.bin").write_bytes(os.urandom(3 * 1024 * 1024))
            project = f"image-{run_id}"
            async with arkive.AsyncClient(gateway_addr, project=project, progress=False) as client:
                art = arkive.Artifact("ds", type="dataset")
                art.add_dir(str(data))
                version = await client.log_artifact(art)
                assert version.created
                out = await (await client.use_artifact(f"{project}/ds:v0")).download(str(tmp_path / "restored"))
            restored = Path(out)
            assert (restored / "a.txt").read_bytes() == (data / "a.txt").read_bytes()
            assert (restored / "sub" / "b.bin").read_bytes() == (data / "sub" / "b.bin").read_bytes()
            calls = await metric_samples(health["gateway"], "grpc_server_handled_total")
            assert value(calls, grpc_method="CommitDraft", grpc_code="OK") >= 1, calls
            logged = podman("logs", names["ingest"], check=False)
            lines = [json.loads(x) for x in (logged.stdout + logged.stderr).splitlines() if x.startswith("{")]
            assert any(x["service"] == "ingest" and x["event"] for x in lines), logged  # JSON logs in the image

            # the web dashboard from the same image, reading through the containerised gateway
            web_port, web_health = free_port(taken), free_port(taken)
            web_env = {"ARKIVE_GATEWAY_ADDR": gateway_addr, "ARKIVE_WEB_ADDR": f"127.0.0.1:{web_port}"}
            web_env |= {"ARKIVE_HEALTH_HOST": "127.0.0.1", "ARKIVE_HEALTH_PORT": str(web_health)}
            names["web"] = f"arkive-test-web-{run_id}"
            flags = [f"--env={k}={v}" for k, v in web_env.items()]
            await asyncio.to_thread(
                podman, "run", "--detach", "--name", names["web"], "--network", "host", *ULIMITS, *flags, image, "web"
            )

            async def web_ready() -> None:
                assert await http_get(web_health, "/readyz") == (200, "ready\n")
                assert (await http_get(web_port, "/static/style.css"))[0] == 200

            await assert_eventually(web_ready, timeout=60, interval=0.5, retry_on=(AssertionError, OSError))

            # graceful termination as PID 1 in a container: SIGTERM, exit status 0
            for s in ["web", *reversed(SERVICES)]:
                await asyncio.to_thread(podman, "stop", "--time", "20", names[s], timeout=60)
                state = await asyncio.to_thread(podman, "inspect", "--format", "{{.State.ExitCode}}", names[s])
                assert state.stdout.strip() == "0", s
        finally:
            await asyncio.to_thread(podman, "rm", "--force", "--time", "2", *names.values(), check=False)
