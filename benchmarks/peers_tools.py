"""The three tools of the peers' table, each as its users call it, against the same S3 server:
arkive through its CLI (`arkive log`, `arkive get`), DVC through its CLI (`dvc add` + `dvc push`,
`dvc pull` in a fresh checkout with an empty cache) and MLflow through its Python API
(`log_artifacts`, `download_artifacts`; peers_mlflow.py, timed around the calls). Each step returns
seconds; every download is compared with its source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import data

STEPS = ("first", "again", "download")


@dataclass
class S3:
    endpoint: str
    access_key: str
    secret_key: str
    region: str

    @classmethod
    def of(cls, env: dict[str, str]) -> S3:
        return cls(
            env["ARKIVE_S3_ENDPOINT"], env["ARKIVE_S3_ACCESS_KEY"], env["ARKIVE_S3_SECRET_KEY"], env["ARKIVE_S3_REGION"]
        )

    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
        }


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    """Seconds one command took, process start included; raises with its output if it failed."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def check_same(src: Path, dest: Path, who: str) -> None:
    problems = data.compare_trees(src, dest)
    if problems:
        raise RuntimeError(f"{who}: the download differs from its source: {problems}")


class Arkive:
    """The project's own CLI from this interpreter's virtualenv, a fresh SDK cache per checkout."""

    name = "arkive"

    def __init__(self, gateway: str, api_key: str, work: Path) -> None:
        self.cli = str(Path(sys.executable).parent / "arkive")
        self.work = work
        self.base_env = {**os.environ, "ARKIVE_GATEWAY_ADDR": gateway, "ARKIVE_API_KEY": api_key}

    def env(self, cache: str) -> dict[str, str]:
        return {**self.base_env, "ARKIVE_CACHE_DIR": str(self.work / cache)}

    def upload(self, src: Path, name: str) -> float:
        return timed([self.cli, "log", str(src), "--project", "peers", "--name", name], env=self.env("cache-logger"))

    def download(self, name: str, dest: Path) -> float:
        cmd = [self.cli, "get", f"peers/{name}:latest", "--out", str(dest)]
        return timed(cmd, env=self.env(f"cache-{name}-reader"))  # another machine: an empty cache


class Dvc:
    """DVC 3 with an S3 remote, in a repository without git (dvc init --no-scm)."""

    name = "DVC"

    def __init__(self, venv: Path, s3: S3, bucket: str, work: Path) -> None:
        self.dvc = str(venv / "bin" / "dvc")
        self.s3, self.bucket, self.work = s3, bucket, work
        self.env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_IGNORE_UPDATE": "1"}

    def init(self, repo: Path) -> None:
        repo.mkdir(parents=True)
        self.run(["init", "--no-scm", "-q"], repo)
        self.run(["remote", "add", "-d", "store", f"s3://{self.bucket}/{repo.name}"], repo)
        for key, value in (
            ("endpointurl", self.s3.endpoint),
            ("access_key_id", self.s3.access_key),
            ("secret_access_key", self.s3.secret_key),
            ("region", self.s3.region),
        ):
            self.run(["remote", "modify", "store", key, value], repo)

    def run(self, args: list[str], cwd: Path) -> float:
        return timed([self.dvc, *args], cwd=cwd, env=self.env)

    def repo(self, name: str) -> Path:
        return self.work / "dvc" / name

    def prepare(self, src: Path, name: str) -> None:
        """Untimed: a repository with a copy of the dataset in its workspace."""
        repo = self.repo(name)
        self.init(repo)
        shutil.copytree(src, repo / "data")

    def upload(self, src: Path, name: str) -> float:
        repo = self.repo(name)
        return self.run(["add", "-q", "data"], repo) + self.run(["push", "-q"], repo)

    def download(self, name: str, dest: Path) -> float:
        """`dvc pull` in a fresh checkout (config and data.dvc only, empty cache) at dest/.."""
        clone = dest.parent / f"{dest.name}-dvc"
        clone.mkdir(parents=True)
        shutil.copytree(self.repo(name) / ".dvc", clone / ".dvc", ignore=shutil.ignore_patterns("cache", "tmp"))
        shutil.copy2(self.repo(name) / "data.dvc", clone / "data.dvc")
        took = self.run(["pull", "-q"], clone)
        (clone / "data").rename(dest)
        return took


class Mlflow:
    """MLflow's log_artifacts/download_artifacts with an S3 artifact location and a file tracking store."""

    name = "MLflow"

    def __init__(self, venv: Path, s3: S3, bucket: str, work: Path) -> None:
        self.python = str(venv / "bin" / "python")
        self.script = str(Path(__file__).with_name("peers_mlflow.py"))
        self.env = {
            **os.environ,
            **s3.aws_env(),
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            "MLFLOW_ALLOW_FILE_STORE": "true",
        }
        self.env.pop("PYTHONPATH", None)
        self.bucket, self.work = bucket, work

    def all_steps(self, src: Path, name: str, dest: Path) -> dict[str, float]:
        cmd = [self.python, self.script, str(self.work / "mlruns"), f"s3://{self.bucket}/{name}", str(src), str(dest)]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"MLflow exited {done.returncode}:\n{done.stderr[-3000:]}")
        times = json.loads(done.stdout.strip().splitlines()[-1])
        found = dest / "data"
        found.rename(dest.with_name(dest.name + "-tmp"))
        dest.rmdir()
        dest.with_name(dest.name + "-tmp").rename(dest)
        return times
