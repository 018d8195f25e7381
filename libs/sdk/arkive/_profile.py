"""Dataset profiles for log_dataset, computed client-side with pyarrow (pandas is optional): schema,
shape, a preview of the first rows and per-column statistics, kept within the metadata size limit.

Statistics follow pandas' describe(): count is the non-null count, std the sample standard deviation
(ddof=1), quantiles interpolate linearly. Above `max_rows` rows, count and nulls stay exact and the
rest is computed on an evenly spaced sample of `max_rows` rows ("sampled": true, "sample_rows": N).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import os
from pathlib import Path
from typing import Any

from arkive_core.errors import InvalidArgument
from arkive_core.validation import MAX_METADATA_BYTES

PREVIEW_MAX_COLUMNS = 100
HISTOGRAM_BINS = 20
TOP_VALUES = 10
DEFAULT_MAX_ROWS = 1_000_000
PREVIEW_STRING_CHARS = 200
# Leave room for the user's own metadata and later `meta set` keys.
PROFILE_BUDGET = MAX_METADATA_BYTES - 8 * 1024


def _pa() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise InvalidArgument(
            "log_dataset needs pyarrow (pip install 'arkive[data]' or pyarrow; pandas for DataFrames)"
        ) from None
    return pyarrow


def to_table(data: Any) -> tuple[Any, str, dict[str, str]]:
    """(pyarrow Table, source format, {column: note}) of a DataFrame, a pyarrow Table, or a Parquet/CSV path.

    Object columns pyarrow cannot type (mixed Python types) are stored as strings (nulls kept).
    """
    pa = _pa()
    if isinstance(data, pa.Table):
        return data, "table", {}
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise InvalidArgument(f"no such file: {path}")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path), "parquet", {}
        if suffix in (".csv", ".tsv") or path.name.lower().endswith((".csv.gz", ".tsv.gz")):
            import pyarrow.csv as pcsv

            delimiter = "\t" if ".tsv" in path.name.lower() else ","
            return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter)), "csv", {}
        raise InvalidArgument(f"log_dataset reads .parquet, .pq and .csv files, not {path.name!r}")
    if type(data).__module__.startswith("pandas") and type(data).__name__ == "DataFrame":
        return _from_pandas(data)
    raise InvalidArgument(
        f"log_dataset takes a pandas DataFrame, a pyarrow Table or a Parquet/CSV path, not {type(data).__name__}"
    )


def _from_pandas(df: Any) -> tuple[Any, str, dict[str, str]]:
    pa = _pa()
    if len(set(map(str, df.columns))) != len(df.columns):
        raise InvalidArgument("the DataFrame's column names must be unique")
    notes: dict[str, str] = {}
    arrays, names = [], []
    for name in df.columns:
        col = df[name]
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arr = pa.array([None if _is_null(x) else str(x) for x in col], type=pa.string())
            notes[str(name)] = "mixed types: stored as strings"
        arrays.append(arr)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names), "pandas", notes


def _is_null(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, pandas.NA and NaT compare unequal to themselves (or raise)
    except (TypeError, ValueError):
        return type(x).__name__ in ("NAType", "NaTType")


def write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    # Deterministic bytes for the same data: an unchanged re-log creates no version.
    pq.write_table(table, path, compression="zstd", write_statistics=True)


# ---- JSON-safe values --------------------------------------------------------------------------


def json_safe(value: Any, max_chars: int = PREVIEW_STRING_CHARS) -> Any:
    """A value JSON (and the server: no NaN/inf) accepts: NaN/inf become None, times ISO strings,
    bytes base64, decimals numbers, long strings are cut (ending with '…')."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= max_chars else value[: max_chars - 1] + "…"
    if isinstance(value, decimal.Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return json_safe("base64:" + base64.b64encode(bytes(value)).decode(), max_chars)
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_chars) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, max_chars) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item(), max_chars)
    return json_safe(str(value), max_chars)


def _num(x: Any) -> float | int | None:
    if x is None:
        return None
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    f = float(x)
    return f if math.isfinite(f) else None


# ---- the profile -------------------------------------------------------------------------------


def schema_of(table: Any) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": str(f.type), "nullable": bool(f.nullable)} for f in table.schema]


def preview_of(table: Any, rows: int, max_columns: int = PREVIEW_MAX_COLUMNS) -> dict[str, Any]:
    names = table.column_names[:max_columns]
    head = table.select(names).slice(0, max(rows, 0))
    data = head.to_pylist()
    out: dict[str, Any] = {"columns": names, "rows": [[json_safe(r[n]) for n in names] for r in data]}
    if len(table.column_names) > max_columns:
        out["columns_truncated"] = True
    return out


def sample(table: Any, max_rows: int) -> Any:
    """An evenly spaced (deterministic) sample of at most max_rows rows."""
    n = table.num_rows
    if n <= max_rows:
        return table
    pa = _pa()
    step = n / max_rows
    indices = pa.array([int(i * step) for i in range(max_rows)], type=pa.int64())
    return table.take(indices)


def column_stats(full: Any, part: Any) -> dict[str, Any]:
    """Statistics of one column: `full` for count/nulls (exact), `part` (maybe a sample) for the rest."""
    import pyarrow.compute as pc

    pa = _pa()
    t = full.type
    nulls = int(full.null_count)
    # Float NaN counts as missing, like pandas.
    if pa.types.is_floating(t):
        nan = int(pc.sum(pc.is_nan(full.fill_null(0))).as_py() or 0)
        nulls += nan
        part = pc.if_else(pc.is_nan(part.fill_null(0)), pa.scalar(None, part.type), part)
    stats: dict[str, Any] = {"type": str(t), "count": len(full) - nulls, "nulls": nulls}
    if pa.types.is_dictionary(t):
        part = part.cast(t.value_type)
        t = t.value_type
    if pa.types.is_boolean(t):
        stats["kind"] = "boolean"
        stats.update(_top(part))
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        stats["kind"] = "numeric"
        stats.update(_numeric(part.cast(pa.float64())))
    elif pa.types.is_temporal(t):
        stats["kind"] = "temporal"
        mm = pc.min_max(part)
        stats["min"] = json_safe(mm["min"].as_py())
        stats["max"] = json_safe(mm["max"].as_py())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        stats["kind"] = "string"
        stats.update(_top(part))
        lengths = pc.utf8_length(part)
        mm = pc.min_max(lengths)
        stats["min_length"], stats["max_length"] = mm["min"].as_py(), mm["max"].as_py()
    else:
        stats["kind"] = "other"
    return stats


def _numeric(arr: Any) -> dict[str, Any]:
    import pyarrow.compute as pc

    valid = pc.drop_null(arr)
    n = len(valid)
    if n == 0:
        return {"mean": None, "std": None, "min": None, "max": None}
    mm = pc.min_max(valid)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    q = pc.quantile(valid, q=[0.25, 0.5, 0.75], interpolation="linear").to_pylist()
    out: dict[str, Any] = {
        "mean": _num(pc.mean(valid).as_py()),
        "std": _num(pc.stddev(valid, ddof=1).as_py()) if n > 1 else None,
        "min": _num(lo),
        "max": _num(hi),
        "p25": _num(q[0]),
        "p50": _num(q[1]),
        "p75": _num(q[2]),
        "zeros": int(pc.sum(pc.equal(valid, 0)).as_py() or 0),
    }
    out["histogram"] = histogram(valid, lo, hi)
    return out


def histogram(valid: Any, lo: float, hi: float, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """numpy.histogram(values, bins) semantics: equal-width bins over [min, max], the last one closed."""
    import pyarrow.compute as pc

    pa = _pa()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return {"edges": [], "counts": []}
    if hi == lo:  # numpy widens a constant range to [v - 0.5, v + 0.5]
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    idx = pc.floor(pc.divide(pc.subtract(valid, lo), width))
    idx = pc.cast(pc.min_element_wise(pc.max_element_wise(idx, 0.0), float(bins - 1)), pa.int64())
    counts = [0] * bins
    for item in pc.value_counts(idx).to_pylist():
        counts[item["values"]] += item["counts"]
    edges = [lo + (hi - lo) * i / bins for i in range(bins)] + [hi]
    return {"edges": [_num(e) for e in edges], "counts": counts}


def _top(arr: Any, k: int = TOP_VALUES) -> dict[str, Any]:
    import pyarrow.compute as pc

    vc = pc.value_counts(pc.drop_null(arr)).to_pylist()
    vc.sort(key=lambda item: (-item["counts"], str(item["values"])))
    return {
        "unique": len(vc),
        "top": [{"value": json_safe(item["values"], 100), "count": int(item["counts"])} for item in vc[:k]],
    }


def profile(
    table: Any,
    *,
    preview: int = 20,
    stats: bool = True,
    max_rows: int = DEFAULT_MAX_ROWS,
    budget: int = PROFILE_BUDGET,
) -> dict[str, Any]:
    """The metadata log_dataset records: shape, schema, preview, stats (and what was cut to fit)."""
    if preview < 0:
        raise InvalidArgument("preview must be >= 0")
    if max_rows < 1:
        raise InvalidArgument("max_rows must be >= 1")
    rows, cols = table.num_rows, table.num_columns
    meta: dict[str, Any] = {"shape": [rows, cols], "num_rows": rows, "num_columns": cols, "schema": schema_of(table)}
    if preview:
        meta["preview"] = preview_of(table, preview)
    if stats:
        part = sample(table, max_rows)
        sampled = part.num_rows < rows
        per_column = {
            name: column_stats(table.column(name).combine_chunks(), part.column(name).combine_chunks())
            for name in table.column_names
        }
        meta["stats"] = {"sampled": sampled, "sample_rows": part.num_rows, "columns": per_column}
    return fit(meta, budget)


def _size(doc: Any) -> int:
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())


def fit(meta: dict[str, Any], budget: int) -> dict[str, Any]:
    """Shrinks a profile until its JSON fits `budget` bytes; says what was cut in "profile_truncated"."""
    cuts: list[str] = []

    def done() -> bool:
        if cuts:
            meta["profile_truncated"] = cuts
        return _size(meta) <= budget

    if done():
        return meta
    preview = meta.get("preview")
    if preview:
        preview["rows"] = [[json_safe(v, 32) for v in row] for row in preview["rows"]]
        cuts.append("preview strings cut to 32 characters")
        while preview["rows"] and not done():
            preview["rows"] = preview["rows"][: len(preview["rows"]) // 2]
        if not preview["rows"]:
            cuts.append("preview dropped")
            del meta["preview"]
        else:
            cuts.append(f"preview cut to {len(preview['rows'])} rows")
        if done():
            return meta
    columns = meta.get("stats", {}).get("columns", {})
    for key, what in (("histogram", "histograms"), ("top", "top values")):
        for c in columns.values():
            c.pop(key, None)
        cuts.append(f"{what} dropped")
        if done():
            return meta
    if columns:
        del meta["stats"]
        cuts.append("stats dropped")
        if done():
            return meta
    meta["schema"] = meta["schema"][:PREVIEW_MAX_COLUMNS]
    cuts.append(f"schema cut to {PREVIEW_MAX_COLUMNS} columns")
    done()
    return meta
