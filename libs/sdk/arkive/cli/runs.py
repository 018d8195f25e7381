"""Runs: `arkive run list`, `arkive run show RUN_ID`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import _output as show
from ._options import Args, group, handler, project_option, shared_options
from ._sdk import client as client_for

if TYPE_CHECKING:
    from arkive import RunInfo


@group("run", short_help="runs: list them or show one")
def run() -> None:
    """Runs: list them or show one."""


def _run_line(r: RunInfo) -> str:
    ended = r.finished_at.isoformat(timespec="seconds") if r.finished_at else "-"
    started = r.started_at.isoformat(timespec="seconds")
    return f"{r.run_id}  {r.state:<8}  {r.job_type or '-':<12}  {r.name}  started {started}  finished {ended}"


@run.command("list", short_help="runs of a project, newest first")
@click.option("--job-type", default="", help="only runs of this job type")
@click.option("--group", default="", help="only runs of this group")
@project_option()
@shared_options
@handler
def run_list(args: Args) -> int:
    with client_for(args) as client:
        runs = client.runs(args.project or None, job_type=args.job_type, group=args.group)
        if args.json:
            show.emit_json({"project": args.project or client.project, "runs": [r.to_dict() for r in runs]})
        else:
            for r in runs:
                print(_run_line(r))
    return 0


@run.command("show", short_help="one run: state, config, used and logged versions")
@click.argument("run_id", metavar="RUN_ID")
@shared_options
@handler
def run_show(args: Args) -> int:
    with client_for(args) as client:
        r = client.get_run(args.run_id)
    if args.json:
        show.emit_json(r.to_dict())
    else:
        print(_run_line(r))
        print(f"project {r.project}  group {r.group or '-'}  config {r.config}")
        print(f"used    {', '.join(r.used) or '-'}")
        print(f"logged  {', '.join(r.logged) or '-'}")
    return 0
