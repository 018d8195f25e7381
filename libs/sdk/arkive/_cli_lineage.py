"""CLI commands for runs and lineage: `arkive run list|show`, `arkive lineage REF`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from arkive_common.errors import InvalidArgument

from . import _cli_output as show
from ._cli_parser import usage_errors
from ._lineage_export import RENDERERS
from ._when import as_of_datetime as parse_as_of

if TYPE_CHECKING:
    from .runs import RunInfo


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    rn = sub.add_parser("run", parents=[common], help="runs: list them or show one")
    rsub = rn.add_subparsers(dest="run_command", metavar="ACTION", parser_class=parser_class, required=True)
    rl = rsub.add_parser("list", parents=[common, proj], help="runs of a project, newest first")
    rl.add_argument("--job-type", default="", help="only runs of this job type")
    rl.add_argument("--group", default="", help="only runs of this group")
    rs = rsub.add_parser("show", parents=[common], help="one run: state, config, used and logged versions")
    rs.add_argument("run_id", metavar="RUN_ID")

    li = sub.add_parser(
        "lineage",
        parents=[common, proj],
        help="the lineage graph around a version (or run:<id>) as Mermaid, DOT or JSON",
    )
    li.add_argument("ref", metavar="REF")
    way = li.add_mutually_exclusive_group()
    way.add_argument("--up", dest="direction", action="store_const", const="up", help="upstream (default)")
    way.add_argument("--down", dest="direction", action="store_const", const="down", help="downstream")
    way.add_argument("--both", dest="direction", action="store_const", const="both", help="both directions")
    li.add_argument("--depth", type=int, default=5, help="hops to follow, 1..50 (default 5)")
    li.add_argument("--format", choices=sorted(RENDERERS), default="mermaid", help="output format (default mermaid)")
    li.add_argument("--type", default="", help="only artifact versions of this type")
    li.add_argument("--job-type", default="", help="only runs of this job type")
    li.add_argument("--as-of", default="", help="the graph as it was at this ISO 8601 time")
    li.add_argument("--limit", type=int, default=1000, help="at most this many nodes (default 1000)")


def _client(args: argparse.Namespace) -> Any:
    from .cli import _client as make

    return make(args)


def _run_line(r: RunInfo) -> str:
    ended = r.finished_at.isoformat(timespec="seconds") if r.finished_at else "-"
    started = r.started_at.isoformat(timespec="seconds")
    return f"{r.run_id}  {r.state:<8}  {r.job_type or '-':<12}  {r.name}  started {started}  finished {ended}"


def cmd_run(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.run_command == "list":
            runs = client.runs(args.project or None, job_type=args.job_type, group=args.group)
            if getattr(args, "json", False):
                show.emit_json({"project": args.project or client.project, "runs": [r.to_dict() for r in runs]})
            else:
                for r in runs:
                    print(_run_line(r))
            return 0
        run = client.get_run(args.run_id)
    if getattr(args, "json", False):
        show.emit_json(run.to_dict())
    else:
        print(_run_line(run))
        print(f"project {run.project}  group {run.group or '-'}  config {run.config}")
        print(f"used    {', '.join(run.used) or '-'}")
        print(f"logged  {', '.join(run.logged) or '-'}")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    with usage_errors():
        as_of = parse_as_of(args.as_of)
        if not 1 <= args.depth <= 50:
            raise InvalidArgument("--depth must be between 1 and 50")
    ref = args.ref
    if not ref.startswith("run:") and args.project and "/" not in ref:
        ref = f"{args.project}/{ref}"
    with _client(args) as client:
        graph = client.lineage(
            ref,
            direction=args.direction or "up",
            depth=args.depth,
            artifact_type=args.type,
            job_type=args.job_type,
            as_of=as_of,
            limit=args.limit,
        )
    fmt = "json" if getattr(args, "json", False) else args.format
    sys.stdout.write(RENDERERS[fmt](graph))
    if graph.truncated:
        print(f"warning: the graph has more than {args.limit} nodes; raise --limit to see all", file=sys.stderr)
    return 0
