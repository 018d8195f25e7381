"""`arkive up` as the README starts it: no flags, the default relative data dir, any working directory."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from arkive_core.credentials import credentials_path
from support import scratch_dir

ARKIVE = str(Path(sys.executable).parent / "arkive")


def _clean_env() -> dict[str, str]:
    """The caller's environment without ARKIVE_* settings (a new user has none), but the test's caches."""
    keep = {"ARKIVE_CACHE_DIR"}
    return {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_") or k in keep}


def _wait_for_exports(proc: subprocess.Popen[str], timeout: float) -> dict[str, str]:
    """Read stdout until the launcher printed its export lines and stderr says it is ready."""
    assert proc.stdout is not None and proc.stderr is not None
    exports: dict[str, str] = {}
    said: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    # os.read on the descriptors, not readline(): a buffered readline() can take several lines out
    # of the pipe at once, and select() then reports nothing for the ones left in the buffer.
    pending: dict[object, str] = {proc.stdout: "", proc.stderr: ""}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            chunk = os.read(key.fd, 65536).decode(errors="replace")
            *lines, pending[key.fileobj] = (pending[key.fileobj] + chunk).split("\n")
            for line in lines:
                if key.fileobj is proc.stdout and line.startswith("export "):
                    name, _, value = line.removeprefix("export ").strip().partition("=")
                    exports[name] = value
                else:
                    said.append(line.rstrip())
            if (
                any(" ready in " in line for line in said)
                and {"ARKIVE_GATEWAY_ADDR", "ARKIVE_API_KEY"} <= exports.keys()
            ):
                return exports
        if proc.poll() is not None:
            break
    raise AssertionError(f"arkive up did not get ready (exit {proc.poll()}):\n" + "\n".join(said[-30:]))


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([ARKIVE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def test_arkive_up_with_the_default_relative_data_dir_from_a_fresh_folder() -> None:
    with scratch_dir("arkive-quickstart-") as cwd:
        env = _clean_env()
        proc = subprocess.Popen(
            [ARKIVE, "up"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            exports = _wait_for_exports(proc, timeout=180)
            # The state lives where the README says: ./.arkive of the folder it was started in.
            assert (cwd / ".arkive" / "postgres" / "PG_VERSION").exists()
            assert (cwd / ".arkive" / "nats").is_dir() and (cwd / ".arkive" / "seaweedfs").is_dir()
            assert not (cwd / ".arkive" / "postgres" / ".arkive").exists()
            client_env = {**env, **exports}
            data = cwd / "data"
            (data / "sub").mkdir(parents=True)
            (data / "a.txt").write_bytes(b"alpha\n")
            (data / "sub" / "b.bin").write_bytes(os.urandom(70_000))
            _run(["log", "./data", "--project", "demo", "--name", "mnist", "--type", "dataset"], cwd, client_env)
            _run(["get", "demo/mnist:v0", "--out", "./restored"], cwd, client_env)
            assert (cwd / "restored" / "a.txt").read_bytes() == b"alpha\n"
            assert (cwd / "restored" / "sub" / "b.bin").read_bytes() == (data / "sub" / "b.bin").read_bytes()
            # Secure by default, still two commands: the first start made an admin token, printed it
            # and stored it (0600) in the user's credentials file, which the CLI reads by itself.
            creds = credentials_path(env)
            assert exports["ARKIVE_API_KEY"] in creds.read_text() and creds.stat().st_mode & 0o777 == 0o600
            assert "ARKIVE_BOOTSTRAP_TOKEN_HASH" not in exports
            gateway_only = {**env, "ARKIVE_GATEWAY_ADDR": exports["ARKIVE_GATEWAY_ADDR"]}
            assert '"global_admin": true' in _run(["whoami", "--json"], cwd, gateway_only).stdout
            anonymous = subprocess.run(
                [ARKIVE, "ls", "--project", "demo"],
                cwd=cwd,
                env={**gateway_only, "ARKIVE_CONFIG_DIR": str(cwd / "nobody")},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert anonymous.returncode == 1 and "UNAUTHENTICATED" in anonymous.stderr
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
            try:
                rc = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
        assert rc == 0
