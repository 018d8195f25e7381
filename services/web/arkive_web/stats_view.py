"""A dataset's per-column statistics (metadata `stats` written by log_dataset) as a readable table:
a fixed choice of columns, numbers to 4 significant digits, top values as text and each histogram
as a small bar chart drawn in SVG."""

from __future__ import annotations

from typing import Any

from .html import Markup, join, render, table

SHOWN = ("type", "count", "nulls", "unique", "mean", "std", "min", "p50", "max", "top")
BAR_W, BAR_H = 4, 28


def number(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value


def top_values(value: Any) -> str:
    if not isinstance(value, list):
        return "" if value is None else str(value)
    parts = [f"{t.get('value')} ({t.get('count')})" if isinstance(t, dict) else str(t) for t in value[:5]]
    return ", ".join(parts)


def histogram_svg(hist: Any) -> Markup:
    counts = hist.get("counts") if isinstance(hist, dict) else None
    if not isinstance(counts, list) or not counts or not all(isinstance(c, int | float) for c in counts):
        return Markup()
    top = max(counts) or 1
    bars = join(
        render(
            "<rect x='{x}' y='{y}' width='{w}' height='{h}' fill='#4a78b8'/>",
            x=i * BAR_W,
            y=BAR_H - round(c / top * BAR_H),
            w=BAR_W - 1,
            h=round(c / top * BAR_H),
        )
        for i, c in enumerate(counts)
    )
    edges = hist.get("edges") or []
    title = f"{number(edges[0])} … {number(edges[-1])}" if len(edges) >= 2 else "histogram"
    return render(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}'><title>{t}</title>{b}</svg>",
        w=len(counts) * BAR_W,
        h=BAR_H,
        t=title,
        b=bars,
    )


def stats_table(columns: dict[str, Any]) -> Markup:
    rows = []
    for name, s in columns.items():
        s = s if isinstance(s, dict) else {}
        cells = [top_values(s.get(k)) if k == "top" else number(s.get(k, "")) for k in SHOWN]
        if not cells[0]:
            cells[0] = s.get("kind", "")
        rows.append([name, *cells, histogram_svg(s.get("histogram"))])
    return table(("column", *SHOWN, "histogram"), rows)
