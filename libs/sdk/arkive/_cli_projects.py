"""`arkive projects`: the projects you may read, with their collections, versions and bytes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _cli_output as show


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    sub.add_parser(
        "projects",
        parents=[common],
        help="the projects you may read, with counts",
        description="Every project your token may read (a global admin: all), with its collections, live "
        "versions and the bytes of those versions. Search them all with `arkive search --all-projects`.",
    )


def cmd_projects(args: argparse.Namespace) -> int:
    from .cli import _client

    with _client(args) as client:
        projects = client.projects()
    if getattr(args, "json", False):
        show.emit_json({"projects": [p.to_dict() for p in projects]})
        return 0
    if not projects:
        sys.stdout.write("no projects you may read\n")
        return 0
    rows = [("project", "collections", "versions", "size")]
    rows += [(p.name, str(p.collections), str(p.versions), show._size(p.total_bytes)) for p in projects]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:  # plain columns: names are never cut
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        sys.stdout.write("  ".join(cells).rstrip() + "\n")
    return 0


COMMANDS = {"projects": cmd_projects}
