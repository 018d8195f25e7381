"""Typed artifacts against the real stack: the MLRun flow (log_dataset with schema, preview and stats;
log_model with metrics; search for models with accuracy > 0.9), plots, and `arkive show --preview`."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_sdk_catalog_integration import cli, cli_json

import arkive


@pytest.fixture
def client(stack: Any):
    with arkive.Client(address=stack.gateway_addr, progress=False) as c:
        yield c


def frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    age = rng.normal(40, 12, n)
    age[::9] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "visits": pd.array([None if i % 13 == 0 else i % 17 for i in range(n)], dtype="Int64"),
            "city": [None if i % 8 == 0 else ["Oslo", "Rome", "Lima", "Pune"][i % 4] for i in range(n)],
            "label": [[0, "yes", 1.5, None][i % 4] for i in range(n)],
            "ok": [i % 2 == 0 for i in range(n)],
        }
    )


def test_mlrun_flow_dataset_model_and_search(client, stack, tmp_path):
    project = f"mlrun-{uuid.uuid4().hex[:10]}"
    df = frame()
    ds = client.log_dataset(df, name="patients", project=project, tags=["raw"])
    assert (ds.type, ds.file_count, ds.created) == ("dataset", 1, True)
    md = ds.metadata
    assert md["shape"] == [200, 5] and md["format"] == "parquet"
    assert [c["name"] for c in md["schema"]] == list(df.columns)
    assert {c["name"]: c["type"] for c in md["schema"]}["visits"] == "int64"
    assert md["conversions"] == {"label": "mixed types: stored as strings"}
    assert len(md["preview"]["rows"]) == 20 and md["preview"]["columns"] == list(df.columns)
    for col in ("age", "visits"):
        want, got = df[col].astype("float64").describe(), md["stats"]["columns"][col]
        for ours, theirs in (("count", "count"), ("mean", "mean"), ("std", "std"), ("min", "min"), ("max", "max"),
                             ("p50", "50%")):  # fmt: skip
            assert math.isclose(got[ours], want[theirs], rel_tol=1e-9), (col, ours)
        assert len(got["histogram"]["counts"]) == 20 and sum(got["histogram"]["counts"]) == want["count"]
    city = md["stats"]["columns"]["city"]
    assert (city["count"], city["nulls"], city["unique"]) == (175, 25, 4)
    assert md["stats"]["sampled"] is False

    # What was stored is Parquet with the same data; the server's view equals the returned one.
    out = client.get_version(f"{project}/patients:latest").download(tmp_path / "restored")
    back = pq.read_table(out / "data.parquet").to_pandas()
    assert back["age"].equals(df["age"]) and back.shape == df.shape
    assert client.get_version(ds.ref).metadata == md
    again = client.log_dataset(df, name="patients", project=project)
    assert (again.created, again.version) == (False, 0)  # deterministic Parquet: no new version

    csv = tmp_path / "small.csv"
    csv.write_text("x,y\n1,a\n2,b\n")
    small = client.log_dataset(csv, name="small", project=project, preview=1)
    assert small.metadata["shape"] == [2, 2] and small.metadata["preview"]["rows"] == [[1, "a"]]

    weights = tmp_path / "model.pkl"
    weights.write_bytes(b"pickle" + project.encode())
    plot = tmp_path / "confusion.png"
    plot.write_bytes(b"\x89PNG fake")
    for i, acc in enumerate([0.85, 0.93, 0.97, 0.9]):
        m = client.log_model(
            weights if i == 0 else f"weights-{i}".encode(),
            name=f"clf-{i}",
            project=project,
            metrics={"accuracy": acc, "f1": acc - 0.1},
            extra_data={"confusion": plot},
            framework="sklearn",
        )
        assert m.type == "model" and m.metadata["metrics"] == {"accuracy": acc, "f1": acc - 0.1}
        assert m.metadata["framework"] == "sklearn" and m.metadata["extra_data"] == {
            "confusion": "extra_data/confusion.png"
        }
    assert sorted(f.path for f in client.files(f"{project}/clf-0")) == ["extra_data/confusion.png", "model.pkl"]
    assert sorted(f.path for f in client.files(f"{project}/clf-1")) == ["extra_data/confusion.png", "model.bin"]

    found = client.search(project, type="model", where=["metrics.accuracy>0.9"], order_by="-metrics.accuracy")
    assert [v.name for v in found] == ["clf-2", "clf-1"]  # exactly those, best first (0.9 is not > 0.9)
    assert [v.name for v in client.search(project, where="metrics.accuracy>0.9")] == ["clf-2", "clf-1"]
    assert [v.name for v in client.search(project, type="dataset", tags=["raw"])] == ["patients"]
    with pytest.raises(arkive.InvalidArgument):
        client.log_model(b"x", name="bad", project=project, metrics={"acc": float("nan")})

    # Plots, restored by `arkive get`; the dataset preview as a table.
    svg = tmp_path / "roc.svg"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    p = client.log_plot(svg, name="roc", project=project, title="ROC curve")
    assert (p.type, p.metadata["title"], p.metadata["media_type"]) == ("plot", "ROC curve", "image/svg+xml")
    got = cli_json(stack, "get", f"{project}/roc", "--out", str(tmp_path / "plot"))
    assert got["files_written"] == 1 and (tmp_path / "plot" / "roc.svg").read_text() == svg.read_text()
    with pytest.raises(arkive.InvalidArgument):
        client.log_plot(weights, name="nope", project=project)
    table = cli(stack, "show", f"{project}/patients", "--preview").stdout
    assert "first 20 rows of 200 x 5" in table and "Oslo" in table and "city" in table
    assert "no preview" in cli(stack, "show", f"{project}/roc", "--preview").stderr


def test_log_dataset_from_parquet_keeps_the_file(client, tmp_path):
    project = f"mlrun-{uuid.uuid4().hex[:10]}"
    path: Path = tmp_path / "given.parquet"
    frame(30).drop(columns=["label"]).to_parquet(path)
    v = client.log_dataset(path, name="given", project=project, metadata={"source": "warehouse"})
    assert v.metadata["source_format"] == "parquet" and v.metadata["source"] == "warehouse"
    restored = v.download(tmp_path / "out")
    assert (restored / "data.parquet").read_bytes() == path.read_bytes()
