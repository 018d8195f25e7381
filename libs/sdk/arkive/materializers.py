"""Materializers: how a Python object becomes an artifact version's files, and how it comes back.

    v = client.log_dataset(df, name="iris")          # or a step returning a DataFrame
    df = client.load("demo/iris:latest")             # a pandas DataFrame again
    arr = client.load("demo/embeddings:v3")          # a numpy array; dicts, text, models likewise

The materializer that wrote a version is recorded in its metadata (`"materializer": NAME`), and
`load()` uses it. Versions logged without one are recognised by what they hold: a dataset
(`log_dataset`, or one Parquet/CSV file) loads as a DataFrame, a model's `model_file` by its suffix
(.pkl/.pickle: pickle, .joblib: joblib, .json: a dict), a single .npy/.json/.txt file as an array,
a dict or text; anything else is downloaded and its folder returned.

Register your own type (user materializers are tried before the built-ins, newest first):

    arkive.register_materializer(arkive.Materializer(
        name="torch.module", artifact_type="model",
        handles=lambda obj: isinstance(obj, torch.nn.Module),
        save=lambda obj, folder: torch.save(obj, folder / "model.pt") or {"model_file": "model.pt"},
        load=lambda folder, metadata: torch.load(folder / "model.pt", weights_only=False),
    ))

Pickle-based loading runs code from the pickle: load only versions you trust (as with any pickle).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arkive_core.errors import InvalidArgument

MATERIALIZER_KEY = "materializer"
"""The metadata key that names the materializer a version was written with."""


@dataclass(frozen=True)
class Materializer:
    """`save(obj, folder)` writes the object's files into an empty folder and returns metadata to
    record with them; `load(folder, metadata)` reads them back. `handles(obj)` says whether this
    materializer is the one for an object; `artifact_type` is the type of the versions it logs."""

    name: str
    artifact_type: str
    handles: Callable[[Any], bool]
    save: Callable[[Any, Path], Mapping[str, Any]]
    load: Callable[[Path, Mapping[str, Any]], Any]


_USER: list[Materializer] = []


def register_materializer(materializer: Materializer) -> None:
    """Adds (or replaces, by name) a materializer; it is tried before every built-in one."""
    if not materializer.name or not isinstance(materializer.name, str):
        raise InvalidArgument("a materializer needs a name")
    _USER[:] = [m for m in _USER if m.name != materializer.name]
    _USER.insert(0, materializer)


def _is(obj: Any, module: str, cls: str) -> bool:
    # Checked by name so that neither pandas nor numpy is imported to ask about an object.
    t = type(obj)
    return t.__name__ == cls and (t.__module__ or "").split(".")[0] == module


def _json_safe(obj: Any) -> bool:
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


# ---- built-ins ---------------------------------------------------------------------------------


def _save_frame(df: Any, folder: Path) -> dict[str, Any]:
    from . import _profile

    table, _, notes = _profile.to_table(df)
    _profile.write_parquet(table, folder / "data.parquet")
    meta: dict[str, Any] = {"format": "parquet", "file": "data.parquet", "source_format": "dataframe"}
    meta.update(_profile.profile(table))
    if notes:
        meta["conversions"] = notes
    return meta


def _read_table(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)


def _load_frame(folder: Path, metadata: Mapping[str, Any]) -> Any:
    return _read_table(folder / str(metadata.get("file") or "data.parquet"))


def _save_array(arr: Any, folder: Path) -> dict[str, Any]:
    import numpy as np

    np.save(folder / "array.npy", arr, allow_pickle=False)
    return {"file": "array.npy", "shape": list(arr.shape), "dtype": str(arr.dtype)}


def _load_array(folder: Path, metadata: Mapping[str, Any]) -> Any:
    import numpy as np

    return np.load(folder / str(metadata.get("file") or "array.npy"), allow_pickle=False)


def _save_json(obj: Any, folder: Path) -> dict[str, Any]:
    (folder / "data.json").write_text(json.dumps(obj, allow_nan=False, indent=1, sort_keys=True))
    return {"file": "data.json"}


def _save_text(obj: str, folder: Path) -> dict[str, Any]:
    (folder / "data.txt").write_text(obj, encoding="utf-8")
    return {"file": "data.txt"}


def _save_bytes(obj: bytes, folder: Path) -> dict[str, Any]:
    (folder / "data.bin").write_bytes(bytes(obj))
    return {"file": "data.bin"}


def _save_pickle(obj: Any, folder: Path) -> dict[str, Any]:
    with open(folder / "model.pkl", "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    t = type(obj)
    return {"model_file": "model.pkl", "python_type": f"{t.__module__}.{t.__qualname__}"}


def _read_file(path: Path) -> Any:
    """A single file by its suffix; None when the suffix says nothing."""
    suffix = path.suffix.lower()
    if suffix in (".pkl", ".pickle"):
        with open(path, "rb") as fh:
            return pickle.load(fh)  # documented: load only versions you trust
    if suffix == ".joblib":
        import joblib

        return joblib.load(path)
    if suffix in (".parquet", ".csv"):
        return _read_table(path)
    if suffix == ".npy":
        import numpy as np

        return np.load(path, allow_pickle=False)
    if suffix == ".json":
        return json.loads(path.read_text())
    if suffix == ".txt":
        return path.read_text(encoding="utf-8")
    return None


def _file(key: str, default: str) -> Callable[[Path, Mapping[str, Any]], Any]:
    return lambda folder, metadata: _read_file(folder / str(metadata.get(key) or default))


def _load_bytes(folder: Path, metadata: Mapping[str, Any]) -> bytes:
    return (folder / str(metadata.get("file") or "data.bin")).read_bytes()


BUILTINS: tuple[Materializer, ...] = (
    Materializer("pandas.DataFrame", "dataset", lambda o: _is(o, "pandas", "DataFrame"), _save_frame, _load_frame),
    Materializer("numpy.ndarray", "data", lambda o: _is(o, "numpy", "ndarray"), _save_array, _load_array),
    Materializer("text", "data", lambda o: isinstance(o, str), _save_text, _file("file", "data.txt")),
    Materializer("bytes", "data", lambda o: isinstance(o, bytes | bytearray), _save_bytes, _load_bytes),
    Materializer(
        "json", "data", lambda o: isinstance(o, dict | list) and _json_safe(o), _save_json, _file("file", "data.json")
    ),
    # The last resort: any object (a scikit-learn model, a custom class) as a pickle.
    Materializer("pickle", "model", lambda o: True, _save_pickle, _file("model_file", "model.pkl")),
)


def for_object(obj: Any) -> Materializer:
    """The materializer that writes `obj` (a user one first; pickle is the last resort)."""
    return next(m for m in (*_USER, *BUILTINS) if m.handles(obj))


def named(name: str) -> Materializer | None:
    return next((m for m in (*_USER, *BUILTINS) if m.name == name), None)


def loader_for(version_type: str, metadata: Mapping[str, Any], paths: list[str]) -> Callable[[Path], Any] | None:
    """How to load a version from the folder its files were downloaded to; None: return the folder."""
    name = metadata.get(MATERIALIZER_KEY)
    if isinstance(name, str):
        m = named(name)
        if m is None:
            raise InvalidArgument(
                f"this version was written by materializer {name!r}, which is not registered here: "
                "register_materializer() it first (or download() the files)"
            )
        return lambda folder: m.load(folder, metadata)
    if version_type == "dataset" and metadata.get("format") == "parquet" and metadata.get("file") in paths:
        return lambda folder: _load_frame(folder, metadata)
    model_file = metadata.get("model_file")
    if version_type == "model" and isinstance(model_file, str) and model_file in paths:
        if Path(model_file).suffix.lower() in (".pkl", ".pickle", ".joblib", ".json"):
            return lambda folder: _read_file(folder / model_file)
    if len(paths) == 1 and Path(paths[0]).suffix.lower() in (".parquet", ".csv", ".npy", ".json", ".txt"):
        only = paths[0]
        return lambda folder: _read_file(folder / only)
    return None
