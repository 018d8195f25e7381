"""Runs inside the peers' own virtualenv (.bench-venv, see `make bench-peers`), not the project's:
MLflow's three steps for one dataset, timed around the library calls (Python start and imports
excluded), printed as one JSON line. Imports nothing of arkive.

    .bench-venv/bin/python benchmarks/peers_mlflow.py TRACKING_DIR ARTIFACT_URI SRC DEST
"""

from __future__ import annotations

import json
import sys
import time


def main(tracking_dir: str, artifact_uri: str, src: str, dest: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(f"file:{tracking_dir}")
    name = artifact_uri.rstrip("/").rsplit("/", 1)[-1]
    exp = mlflow.create_experiment(name, artifact_location=artifact_uri)
    times = {}
    with mlflow.start_run(experiment_id=exp) as run:
        started = time.perf_counter()
        mlflow.log_artifacts(src, artifact_path="data")
        times["first"] = time.perf_counter() - started
        started = time.perf_counter()
        mlflow.log_artifacts(src, artifact_path="data")  # unchanged: MLflow uploads every file again
        times["again"] = time.perf_counter() - started
    started = time.perf_counter()
    mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="data", dst_path=dest)
    times["download"] = time.perf_counter() - started
    print(json.dumps(times))


if __name__ == "__main__":
    main(*sys.argv[1:5])
