"""Result rows, the plain-text tables and the JSON report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One SDK scenario next to its raw limit and (where the issue sets one) its target."""

    dataset: str
    scenario: str
    seconds: float
    nbytes: int
    """Bytes sent (logs) or received (download)."""
    raw_what: str
    raw_seconds: float
    target: str = ""
    met: bool | None = None
    """True/False against the target; None when there is no target."""
    server_received: int | None = None
    """Bytes the server's counters (GetBlobStats) say it received during the step (logs only)."""
    server_stored: int | None = None
    """Bytes of new blobs the server's counters say the step stored."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.seconds / self.raw_seconds if self.raw_seconds > 0 else float("inf")


@dataclass
class Raw:
    """A raw measurement, for the limits table."""

    dataset: str
    what: str
    seconds: float
    nbytes: int
    objects: int


def human(n: float) -> str:
    if n == 0:
        return "0 B"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / seconds / 1e6:.0f} MB/s" if seconds > 0 else "-"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        out = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in pairs]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def results_table(rows: Sequence[Row]) -> str:
    header = [
        "dataset",
        "scenario",
        "seconds",
        "bytes sent (SDK)",
        "server recv",
        "server stored",
        "raw limit",
        "raw s",
        "ratio",
        "target",
        "result",
    ]
    body = [
        [
            r.dataset,
            r.scenario,
            f"{r.seconds:.3f}",
            human(r.nbytes),
            "-" if r.server_received is None else human(r.server_received),
            "-" if r.server_stored is None else human(r.server_stored),
            r.raw_what,
            f"{r.raw_seconds:.3f}",
            f"{r.ratio:.2f}x",
            r.target or "-",
            {True: "PASS", False: "MISS", None: "-"}[r.met],
        ]
        for r in rows
    ]
    return table(header, body, right={2, 3, 4, 5, 7, 8})


def raw_table(raws: Sequence[Raw]) -> str:
    header = ["dataset", "raw measurement", "objects", "bytes", "seconds", "throughput", "objects/s"]
    body = [
        [
            r.dataset,
            r.what,
            str(r.objects),
            human(r.nbytes),
            f"{r.seconds:.3f}",
            rate(r.nbytes, r.seconds),
            f"{r.objects / r.seconds:.0f}" if r.seconds > 0 else "-",
        ]
        for r in raws
    ]
    return table(header, body, right={2, 3, 4, 5, 6})


def to_json(rows: Sequence[Row], raws: Sequence[Raw], problems: Sequence[str], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        "results": [{**asdict(r), "ratio": r.ratio} for r in rows],
        "raw": [asdict(r) for r in raws],
        "problems": list(problems),
        "ok": not problems,
    }
