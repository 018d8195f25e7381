"""Run the README's quick start exactly as written, from the repository root (CI runs it after `make test`).

It takes the commands from the README itself: `make run` in the background (in its own process group,
stopped with SIGINT as Ctrl-C would), then every `.venv/bin/arkive ...` line of the quick start's
second block, each of which must exit 0. The README assumes the user's `./data`; a small one is made
when missing. At the end `./restored` must equal `./data`. Standard library only.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands(readme: str) -> list[str]:
    """The `.venv/bin/arkive` lines of the README's "Quick start" section, comments stripped."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith(".venv/bin/arkive"):
                commands.append(line.split("  #", 1)[0].strip())
    if not commands:
        raise SystemExit("no .venv/bin/arkive commands found in the README's quick start")
    return commands


def wait_ready(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Echo the launcher's output until it says it is ready. Reads the pipe with os.read: a buffered
    readline() after select() can leave lines in its buffer that select() then never reports."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    pending = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            chunk = os.read(fd, 65536)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                print(f"  | {line}", flush=True)
                if " ready in " in line:
                    return
            if not chunk and proc.poll() is not None:
                break
        if proc.poll() is not None:
            raise SystemExit(f"`make run` exited with {proc.returncode} before the stack was ready")
    raise SystemExit(f"`make run` was not ready within {timeout:.0f} s")


def make_data(data: Path) -> None:
    (data / "train").mkdir(parents=True)
    for i in range(20):
        (data / "train" / f"{i:03d}.bin").write_bytes(os.urandom(1000 + i * 997))
    (data / "labels.csv").write_text("id,label\n" + "".join(f"{i},{i % 10}\n" for i in range(200)))


def same_tree(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    return files(a) == files(b)


def main() -> int:
    os.chdir(ROOT)
    commands = quickstart_commands((ROOT / "README.md").read_text())
    if not (ROOT / "data").exists():
        make_data(ROOT / "data")
    restored = ROOT / "restored"
    if restored.exists():
        raise SystemExit("./restored exists already; the quick start writes it")
    print("$ make run", flush=True)
    # stderr into stdout: the launcher's progress (and "ready in") goes to stderr
    proc = subprocess.Popen(
        ["make", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    failed = 0
    try:
        wait_ready(proc, timeout=600)
        for command in commands:
            print(f"$ {command}", flush=True)
            done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=300)
            for line in (done.stdout + done.stderr).splitlines()[:20]:
                print(f"  | {line}", flush=True)
            if done.returncode != 0:
                print(f"FAILED: exit {done.returncode}", flush=True)
                failed += 1
        if not same_tree(ROOT / "data", restored):
            print("FAILED: ./restored differs from ./data", flush=True)
            failed += 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            rc = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = -9
        assert proc.stdout is not None
        tail = proc.stdout.read().decode(errors="replace").splitlines()
        for line in tail[-5:]:
            print(f"  | {line}", flush=True)
    # make itself dies of the SIGINT (-2) or reports the interrupted recipe (2); the launcher must
    # have said that it stopped everything
    if rc not in (0, 2, -2, 130) or not any(line.endswith("arkive up: stopped") for line in tail):
        print(f"FAILED: `make run` ended with {rc} after Ctrl-C", flush=True)
        failed += 1
    print(f"quickstart: {len(commands) + 1 - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
