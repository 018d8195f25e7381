"""Runs across the whole logging API: every way of logging inside a run records the run as the
producer, and `run show` names versions by ref."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

import arkive

ARKIVE = Path(sys.executable).with_name("arkive")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'


def test_every_log_call_of_a_run_records_it_as_the_producer(stack: Any, tmp_path: Path) -> None:
    p = "runs" + uuid.uuid4().hex[:10]
    (tmp_path / "roc.svg").write_bytes(SVG)
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "shard-0.bin").write_bytes(os.urandom(100))
    with arkive.Client(stack.gateway_addr, progress=False) as client:
        src = arkive.Artifact("src")
        src.add_file(tmp_path / "roc.svg")
        source = client.log_artifact(src, p)
        with client.run(p, job_type="train") as run:
            run.use_artifact(source.ref)
            outputs = [
                run.log_dataset(pd.DataFrame({"x": [1, 2]}), "table"),
                run.log_model(b"weights", "model", metrics={"acc": 0.5}),
                run.log_plot(tmp_path / "roc.svg", "roc", title="ROC"),
                run.log_object({"lr": 0.1}, "config"),
            ]
            shard = arkive.Artifact("sharded")
            shard.add_dir(tmp_path / "part")
            upserted = run.upsert_artifact(shard, distributed_id="job-1")
            assert upserted.file_count == 1
            outputs.append(run.finish_artifact("sharded", distributed_id="job-1"))
        assert [v.project for v in outputs] == [p] * 5
        want = sorted(v.ref for v in outputs)

        deadline = time.monotonic() + 30
        info = client.get_run(run.run_id)
        while sorted(info.logged) != want and time.monotonic() < deadline:  # the lineage consumer catches up
            time.sleep(0.05)
            info = client.get_run(run.run_id)
        assert sorted(info.logged) == want
        assert info.used == [source.ref] and info.used_version_ids == [source.version_id]
        assert sorted(info.logged_version_ids) == sorted(v.version_id for v in outputs)

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    env["ARKIVE_GATEWAY_ADDR"] = stack.gateway_addr
    shown = subprocess.run([str(ARKIVE), "run", "show", run.run_id], capture_output=True, text=True, env=env)
    assert shown.returncode == 0, shown.stderr
    for ref in want:
        assert ref in shown.stdout
    assert outputs[0].version_id not in shown.stdout  # refs, not bare ids
