"""Operator commands: `arkive admin rebuild-projections`, `blob-stats`, `scrub`, `dead-letters [--retry ID]`
and `check` (the bus consumers against the event log)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from . import _output as show
from ._options import Args, UsageError, group, handler, shared_options
from ._sdk import client as client_for

if TYPE_CHECKING:
    from arkive import BlobStats, ConsumerCheck, DeadLetter


@group("admin", short_help="operator commands")
def admin() -> None:
    """Operator commands."""


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> None:
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        # Long error texts fold rather than being cut at the terminal's width.
        table.add_column(col, justify="right" if i >= right_from else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    show.console().print(table)


@admin.command("rebuild-projections", short_help="replay the event log into every read model")
@shared_options
@handler
def rebuild_projections(args: Args) -> int:
    with client_for(args) as client:
        rebuilds = client.rebuild_projections()
    if args.json:
        show.emit_json(
            {
                "rebuilds": [{"service": s, "events_replayed": n} for s, n in rebuilds.items()],
                "total_events_replayed": sum(rebuilds.values()),
            }
        )
    else:
        show.rebuilds_table(rebuilds)
    return 0


def _print_blob_stats(stats: BlobStats) -> None:
    rows = [
        (name, show.size(value) if name.endswith("_bytes") or name.startswith("bytes_") else str(value))
        for name, value in stats.to_dict().items()
    ]
    _table("blob storage (cluster-wide)", ("counter", "value"), rows)


@admin.command("blob-stats", short_help="cluster-wide byte counters of the blob storage")
@shared_options
@handler
def blob_stats(args: Args) -> int:
    with client_for(args) as client:
        stats = client.blob_stats()
    show.emit_json(stats.to_dict()) if args.json else _print_blob_stats(stats)
    return 0


def _print_scrub(result: Any) -> None:
    out = show.console()
    out.print(
        f"checked {result.blobs_checked} blobs in {result.objects_checked} objects "
        f"({show.size(result.bytes_read)} read)"
    )
    if not result.corrupt:
        out.print("no corrupt blobs")
        return
    for c in result.corrupt:
        out.print(f"corrupt: {c.digest} in {c.key}: {c.reason}")
    out.print(f"{len(result.corrupt)} corrupt blob(s) dropped from the index: log the same bytes again to repair them")


@admin.command("scrub", short_help="re-read stored blobs, verify sha256, drop corrupt ones from the index")
@click.option("--sample", type=int, metavar="N", help="verify N objects picked at random instead of all")
@shared_options
@handler
def scrub(args: Args) -> int:
    if args.sample is not None and args.sample <= 0:
        raise UsageError("--sample must be a positive number")
    with client_for(args) as client:
        result = client.scrub(sample=args.sample)
    show.emit_json(result.to_dict()) if args.json else _print_scrub(result)
    return 1 if result.corrupt else 0


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_dead_letters(letters: list[DeadLetter]) -> None:
    if not letters:
        show.console().print("no dead letters")
        return
    rows = []
    for d in letters:
        event = f"{d.event_type} {d.event_id[:8]}" if d.event_id else "(undecodable)"
        seq = str(d.stream_seq) if d.stream_seq else "-"
        rows.append((str(d.id), d.consumer, event, seq, str(d.deliveries), _when(d.last_failure), d.error))
    columns = ("id", "consumer", "event", "seq", "tries", "last failure", "error")
    _table("dead letters (--json: subject, raw size, first failure)", columns, rows, right_from=len(columns))


@admin.command("dead-letters", short_help="events the bus consumers gave up on; --retry ID applies one again")
@click.option("--retry", type=int, metavar="ID", help="apply this dead letter again (after fixing its cause)")
@shared_options
@handler
def dead_letters(args: Args) -> int:
    with client_for(args) as client:
        if args.retry is not None:
            result = client.retry_dead_letter(args.retry)
        else:
            letters = client.dead_letters()
    if args.retry is not None:
        if args.json:
            show.emit_json(result)
        else:
            what = "applied" if result["applied"] else "had been applied already; removed"
            sys.stdout.write(f"dead letter {args.retry} ({result['consumer']}, event {result['event_id']}): {what}\n")
        return 0
    if args.json:
        show.emit_json({"dead_letters": [d.to_dict() for d in letters]})
    else:
        _print_dead_letters(letters)
    return 0


def _print_checks(checks: list[ConsumerCheck]) -> None:
    rows = [
        (c.consumer, *map(str, (c.expected, c.processed, c.redriven, c.still_missing, c.dead_letters, c.position)))
        for c in checks
    ]
    columns = ("consumer", "expected", "processed", "re-driven", "missing", "dead letters", "position")
    _table("bus consumers", columns, rows)


@admin.command(
    "check",
    short_help="compare each bus consumer with the event log and re-drive what it missed (exit 1 if still missing)",
)
@shared_options
@handler
def check(args: Args) -> int:
    with client_for(args) as client:
        checks = client.check_consumers()
    missing = sum(c.still_missing for c in checks)
    if args.json:
        show.emit_json({"consumers": [c.to_dict() for c in checks], "ok": missing == 0})
    else:
        _print_checks(checks)
        if missing:
            sys.stdout.write(f"{missing} events are still missing (waiting for earlier events); run the check again\n")
    return 1 if missing else 0
