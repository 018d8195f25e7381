"""`arkive projects`: the projects you may read, with their collections, versions and bytes."""

from __future__ import annotations

import sys

import click

from . import _output as show
from ._options import Args, handler, shared_options
from ._sdk import client as client_for


@click.command(
    "projects",
    help="Every project your token may read (a global admin: all), with its collections, live "
    "versions and the bytes of those versions. Search them all with `arkive search --all-projects`.",
    short_help="the projects you may read, with counts",
)
@shared_options
@handler
def projects(args: Args) -> int:
    with client_for(args) as client:
        found = client.projects()
    if args.json:
        show.emit_json({"projects": [p.to_dict() for p in found]})
        return 0
    if not found:
        sys.stdout.write("no projects you may read\n")
        return 0
    rows = [("project", "collections", "versions", "size")]
    rows += [(p.name, str(p.collections), str(p.versions), show.size(p.total_bytes)) for p in found]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:  # plain columns: names are never cut
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")
    return 0
