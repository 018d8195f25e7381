"""`arkive status [--wait S] [--json]`: every process's readiness, version and uptime, the outbox lag
and each bus consumer's lag and dead letters (AdminService.GetStatus; global admins). Exit status 1
when a process is not ready, none answered, or a consumer holds dead letters."""

from __future__ import annotations

import click

from . import _output as show
from ._options import Args, handler, shared_options
from ._sdk import client as client_for


def _duration(seconds: float) -> str:
    s = int(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes}m" if hours else f"{minutes}m{s}s"


@click.command(
    "status",
    help="Asks every gateway and service process (each replica) over the bus, through the gateway; "
    "those that answer within --wait seconds are listed. Exit status 1 if one is not ready, none "
    "answered, or a consumer holds dead letters.",
    short_help="every process: ready, version, uptime, outbox lag, consumer lag, dead letters",
)
@click.option("--wait", type=float, default=1.0, metavar="S", help="seconds to collect answers (default 1)")
@shared_options
@handler
def status(args: Args) -> int:
    with client_for(args) as client:
        processes = client.status(args.wait)
    healthy = bool(processes) and all(p.ready for p in processes)
    healthy = healthy and not any(c.dead_letters for p in processes for c in p.consumers)
    if args.json:
        show.emit_json({"processes": [p.to_dict() for p in processes], "ok": healthy})
        return 0 if healthy else 1
    from rich.table import Table

    table = Table(title="arkive processes")
    for col in ("service", "instance", "ready", "version", "uptime", "outbox", "consumers (pending/dead)"):
        table.add_column(col, overflow="fold")
    for p in processes:
        outbox = f"{p.outbox_pending} ({p.outbox_oldest_age_seconds:.0f}s)" if p.outbox_pending else "0"
        consumers = ", ".join(f"{c.consumer} {c.pending}/{c.dead_letters}" for c in p.consumers) or "-"
        ready = "yes" if p.ready else "NO"
        table.add_row(p.service, p.instance, ready, p.version, _duration(p.uptime_seconds), outbox, consumers)
    show.console().print(table if processes else "no process answered")
    return 0 if healthy else 1
