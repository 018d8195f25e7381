"""Lineage: `arkive lineage REF` as Mermaid, DOT or JSON."""

from __future__ import annotations

import sys

import click

from ._options import ArgparseChoice, Args, UsageError, handler, project_option, shared_options, usage_errors
from ._sdk import as_of_datetime, render_lineage
from ._sdk import client as client_for

FORMATS = ("dot", "json", "mermaid")  # the SDK's lineage renderers


@click.command("lineage", short_help="the lineage graph around a version (or run:<id>) as Mermaid, DOT or JSON")
@click.argument("ref", metavar="REF")
@click.option("--up", is_flag=True, help="upstream (default)")
@click.option("--down", is_flag=True, help="downstream")
@click.option("--both", is_flag=True, help="both directions")
@click.option("--depth", type=int, default=5, help="hops to follow, 1..50 (default 5)")
@click.option("--format", type=ArgparseChoice(FORMATS), default="mermaid", help="output format (default mermaid)")
@click.option("--type", default="", help="only artifact versions of this type")
@click.option("--job-type", default="", help="only runs of this job type")
@click.option("--as-of", default="", help="the graph as it was at this ISO 8601 time")
@click.option("--limit", type=int, default=1000, help="at most this many nodes (default 1000)")
@project_option()
@shared_options
@handler
def lineage(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    ways = [w for w in ("up", "down", "both") if getattr(args, w)]
    if len(ways) > 1:
        raise UsageError(f"argument --{ways[1]}: not allowed with argument --{ways[0]}")
    with usage_errors():
        as_of = as_of_datetime(args.as_of)
        if not 1 <= args.depth <= 50:
            raise InvalidArgument("--depth must be between 1 and 50")
    ref = args.ref
    if not ref.startswith("run:") and args.project and "/" not in ref:
        ref = f"{args.project}/{ref}"
    with client_for(args) as client:
        graph = client.lineage(
            ref,
            direction=ways[0] if ways else "up",
            depth=args.depth,
            artifact_type=args.type,
            job_type=args.job_type,
            as_of=as_of,
            limit=args.limit,
        )
    sys.stdout.write(render_lineage("json" if args.json else args.format, graph))
    if graph.truncated:
        print(f"warning: the graph has more than {args.limit} nodes; raise --limit to see all", file=sys.stderr)
    return 0
