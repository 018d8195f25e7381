"""Unit tests of the dataset profile (log_dataset's schema, preview and stats), against pandas and numpy."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arkive import InvalidArgument
from arkive._profile import fit, json_safe, profile, to_table, write_parquet


def mixed_frame(n: int = 57) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ints = pd.array(rng.integers(-5, 100, n), dtype="Int64")
    ints[::7] = pd.NA
    floats = rng.normal(3.0, 2.0, n)
    floats[::5] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "score": floats,
            "count": ints,
            "city": [None if i % 6 == 0 else ["Oslo", "Rome", "Lima"][i % 3] for i in range(n)],
            "flag": [i % 3 == 0 for i in range(n)],
            "mixed": [[1, "two", 3.5, None][i % 4] for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
        }
    )


def test_stats_match_pandas_describe():
    df = mixed_frame()
    table, fmt, notes = to_table(df)
    assert fmt == "pandas" and notes == {"mixed": "mixed types: stored as strings"}
    meta = profile(table)
    assert meta["shape"] == [57, 7] and (meta["num_rows"], meta["num_columns"]) == (57, 7)
    assert [c["name"] for c in meta["schema"]] == list(df.columns)
    assert {c["name"]: c["type"] for c in meta["schema"]}["count"] == "int64"
    stats = meta["stats"]
    assert (stats["sampled"], stats["sample_rows"]) == (False, 57)
    for col in ("id", "score", "count"):
        want = df[col].astype("float64").describe()
        got = stats["columns"][col]
        assert got["kind"] == "numeric" and got["count"] == want["count"]
        assert got["nulls"] == int(df[col].isna().sum())
        for ours, theirs in (("mean", "mean"), ("std", "std"), ("min", "min"), ("max", "max"), ("p25", "25%"),
                             ("p50", "50%"), ("p75", "75%")):  # fmt: skip
            assert math.isclose(got[ours], want[theirs], rel_tol=1e-9, abs_tol=1e-12), (col, ours)
        counts, edges = np.histogram(df[col].dropna().astype("float64"), bins=20)
        assert got["histogram"]["counts"] == counts.tolist()
        assert np.allclose(got["histogram"]["edges"], edges)
    for col in ("city", "mixed"):
        want = df[col].dropna().astype(str).describe()
        got = stats["columns"][col]
        assert (got["kind"], got["count"], got["unique"]) == ("string", want["count"], want["unique"])
        assert got["top"][0]["count"] == want["freq"]  # ties: pandas picks any of the most frequent
        assert {"value": want["top"], "count": want["freq"]} in got["top"]
    flag = stats["columns"]["flag"]
    assert flag["kind"] == "boolean" and flag["top"] == [{"value": False, "count": 38}, {"value": True, "count": 19}]
    when = stats["columns"]["when"]
    assert (when["min"], when["max"]) == ("2024-01-01T00:00:00", df["when"].max().isoformat())


def test_preview_is_first_rows_json_safe():
    df = mixed_frame()
    meta = profile(to_table(df)[0], preview=20)
    preview = meta["preview"]
    assert preview["columns"] == list(df.columns) and len(preview["rows"]) == 20
    json.dumps(meta, allow_nan=False)  # no NaN anywhere
    row0, row5 = preview["rows"][0], preview["rows"][5]
    assert row0[:5] == [0, df["score"][0] if not math.isnan(df["score"][0]) else None, None, None, True]
    assert row5[1] is None  # NaN -> null
    assert row0[6] == "2024-01-01T00:00:00"
    assert profile(to_table(df)[0], preview=0).get("preview") is None


def test_preview_at_most_100_columns_and_json_safe_values():
    table = pa.table({f"c{i}": [i, None] for i in range(150)})
    meta = profile(table, preview=5, stats=False)
    assert len(meta["preview"]["columns"]) == 100 and meta["preview"]["columns_truncated"]
    assert len(meta["schema"]) == 150 and "stats" not in meta
    assert json_safe(float("nan")) is None and json_safe(float("inf")) is None
    assert json_safe(b"\x00\x01") == "base64:AAE="
    assert json_safe("x" * 500).endswith("…") and len(json_safe("x" * 500)) == 200
    assert json_safe(np.float32(1.5)) == 1.5 and json_safe({"a": [np.int64(3)]}) == {"a": [3]}


def test_sampling_above_max_rows_keeps_exact_counts():
    n = 10_000
    values = np.arange(n, dtype="float64")
    values[::7] = np.nan
    table = pa.table({"x": pa.array(values, from_pandas=True), "s": [str(i % 3) for i in range(n)]})
    meta = profile(table, max_rows=1000)
    stats = meta["stats"]
    assert (stats["sampled"], stats["sample_rows"]) == (True, 1000)
    x = stats["columns"]["x"]
    assert (x["count"], x["nulls"]) == (n - 1429, 1429)  # exact, not from the sample
    assert 800 < sum(x["histogram"]["counts"]) < 1000  # the sample's non-null rows
    assert abs(x["mean"] - np.nanmean(values)) < 50


def test_profile_fits_the_metadata_budget():
    table = pa.table({f"col{i}": ["long text " * 30 + str(j) for j in range(30)] for i in range(60)})
    meta = profile(table, preview=20)
    size = len(json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode())
    assert size <= 56 * 1024
    assert meta["profile_truncated"] and meta["shape"] == [30, 60]


def test_files_csv_and_parquet_read_without_pandas(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,x\n2,\n3,z\n")
    table, fmt, _ = to_table(csv)
    assert fmt == "csv" and table.num_rows == 3 and profile(table)["stats"]["columns"]["a"]["mean"] == 2.0
    pqf = tmp_path / "t.parquet"
    write_parquet(table, pqf)
    assert to_table(pqf)[0].equals(pq.read_table(pqf))
    again = tmp_path / "again.parquet"
    write_parquet(table, again)
    assert pqf.read_bytes() == again.read_bytes()  # deterministic: an unchanged re-log is no new version
    with pytest.raises(InvalidArgument):
        to_table(tmp_path / "t.xlsx")
    with pytest.raises(InvalidArgument):
        to_table([1, 2, 3])


def test_fit_cuts_in_order():
    meta = {"shape": [1, 1], "schema": [], "preview": {"columns": ["a"], "rows": [["y" * 1000]] * 10}}
    out = fit(meta, 2000)
    assert out["profile_truncated"][0].startswith("preview strings cut")
