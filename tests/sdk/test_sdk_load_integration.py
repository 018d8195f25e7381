"""Python objects in and out of versions (materializers, client.load, version.load) and steps that take
and return plain values, against the real stack."""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from arkive_core.errors import InvalidArgument

import arkive


def new_project() -> str:
    return "load" + uuid.uuid4().hex[:10]


@pytest.fixture
def client(stack: Any) -> Iterator[arkive.Client]:
    with arkive.Client(stack.gateway_addr, progress=False) as c:
        yield c


class Point:
    """A plain class: the pickle materializer's business."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


class Celsius:
    def __init__(self, degrees: float) -> None:
        self.degrees = degrees


def test_objects_round_trip_through_their_materializers(client: arkive.Client, tmp_path: Path) -> None:
    p = new_project()
    df = pd.DataFrame({"age": [31, 45, 17], "name": ["ann", "bob", "cy"]})
    cases: dict[str, tuple[Any, str, str]] = {
        "frame": (df, "pandas.DataFrame", "dataset"),
        "array": (np.arange(12, dtype=np.float32).reshape(3, 4), "numpy.ndarray", "data"),
        "config": ({"lr": 0.1, "layers": [64, 32]}, "json", "data"),
        "notes": ("héllo\nworld", "text", "data"),
        "raw": (b"\x00\x01binary", "bytes", "data"),
        "point": (Point(3, 4), "pickle", "model"),
    }
    for name, (obj, materializer, kind) in cases.items():
        v = client.log_object(obj, name, p)
        assert v.metadata["materializer"] == materializer and v.type == kind, name
        back = client.load(f"{p}/{name}:latest")
        if isinstance(obj, pd.DataFrame):
            pd.testing.assert_frame_equal(back, obj)
            assert v.metadata["shape"] == [3, 2]  # the dataset profile comes along
        elif isinstance(obj, np.ndarray):
            assert back.dtype == obj.dtype and np.array_equal(back, obj)
        else:
            assert back == obj, name
        assert type(v.load()) is type(back)
    # Logging the same object again is the same version (deterministic bytes).
    assert client.log_object(df, "frame", p).version == 0


def test_versions_logged_without_a_materializer_are_recognised(client: arkive.Client, tmp_path: Path) -> None:
    p = new_project()
    df = pd.DataFrame({"x": [1, 2, 3]})
    client.log_dataset(df, "ds", p)
    pd.testing.assert_frame_equal(client.load(f"{p}/ds"), df)

    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    client.log_model(tmp_path / "model.pkl", "clf", p, metrics={"acc": 0.9})
    assert client.load(f"{p}/clf") == {"weights": [1, 2]}

    csv = tmp_path / "csv"
    csv.mkdir()
    (csv / "t.csv").write_text("a,b\n1,2\n3,4\n")
    art = arkive.Artifact("table")
    art.add_dir(csv)
    client.log_artifact(art, p)
    assert client.load(f"{p}/table").to_dict("list") == {"a": [1, 3], "b": [2, 4]}

    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"a")
    (folder / "sub" / "b.bin").write_bytes(b"b")
    art = arkive.Artifact("stuff")
    art.add_dir(folder)
    client.log_artifact(art, p)
    path = client.load(f"{p}/stuff", tmp_path / "out")
    assert path == tmp_path / "out" and (path / "sub" / "b.bin").read_bytes() == b"b"


def test_a_registered_materializer_wins_and_an_unknown_one_is_named(client: arkive.Client, tmp_path: Path) -> None:
    p = new_project()
    seen: list[str] = []

    def save(obj: Celsius, folder: Path) -> dict[str, Any]:
        seen.append("save")
        (folder / "t.celsius").write_text(str(obj.degrees))
        return {"unit": "C"}

    def load(folder: Path, metadata: Any) -> Celsius:
        assert metadata["unit"] == "C"
        return Celsius(float((folder / "t.celsius").read_text()))

    name = "test.celsius." + uuid.uuid4().hex[:6]
    arkive.register_materializer(arkive.Materializer(name, "data", lambda o: isinstance(o, Celsius), save, load))
    v = client.log_object(Celsius(21.5), "temp", p)
    assert seen == ["save"] and v.metadata["materializer"] == name
    assert client.load(v).degrees == 21.5

    # log_object records the materializer it used, whatever the metadata said
    assert client.log_object({"x": 1}, "cfg", p, metadata={"materializer": "x"}).metadata["materializer"] == "json"
    (tmp_path / "cfg.json").write_text("{}")
    art = arkive.Artifact("odd", metadata={"materializer": "nobody.knows"})
    art.add_file(tmp_path / "cfg.json")
    client.log_artifact(art, p)
    with pytest.raises(InvalidArgument, match="materializer"):
        client.load(f"{p}/odd")


def _wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_steps_take_and_return_plain_values_with_lineage(client: arkive.Client) -> None:
    p = new_project()
    calls: list[str] = []

    @arkive.step(client=client, project=p)
    def clean(raw: pd.DataFrame, min_age: int) -> pd.DataFrame:
        calls.append("clean")
        assert isinstance(raw, pd.DataFrame)
        return raw[raw.age >= min_age].reset_index(drop=True)

    @arkive.step(client=client, project=p)
    def summarize(data: pd.DataFrame, version: arkive.ArtifactVersion) -> tuple[Any, dict[str, Any]]:
        calls.append("summarize")
        assert isinstance(version, arkive.ArtifactVersion)
        return data.age.to_numpy(), {"rows": len(data)}

    raw = pd.DataFrame({"age": [12, 30, 55], "name": ["a", "b", "c"]})
    cleaned = clean(raw, min_age=18)  # a DataFrame in: logged first as an input (ExternalArtifact)
    assert isinstance(cleaned, arkive.ArtifactVersion) and cleaned.name == "clean_output"
    assert cleaned.load().name.tolist() == ["b", "c"]
    again = clean(raw, min_age=18)
    assert calls == ["clean"] and again.version_id == cleaned.version_id  # a cache hit

    ages, summary = summarize(cleaned, cleaned)
    assert (ages.name, summary.name) == ("summarize_output_0", "summarize_output_1")
    assert list(ages.load()) == [30, 55] and summary.load() == {"rows": 2}

    def up() -> set[str]:
        graph = client.lineage(summary, direction="up", depth=4)
        return {n.name for n in graph.nodes if n.kind == "version"}

    assert _wait_for(lambda: {"clean_raw", "clean_output"} <= up()), up()

    ext = clean(arkive.ExternalArtifact(raw, name="patients"), min_age=40)
    assert ext.load().name.tolist() == ["c"]
    assert client.get_version(f"{p}/patients:latest").metadata["materializer"] == "pandas.DataFrame"
