"""`arkive search`: a project's versions by type, name, tags, alias, time, metadata and run, sorted
and paged (`arkive ls` lists collections)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from . import _output as show
from ._options import Args, handler, project_option, shared_options, usage_errors
from ._sdk import client as client_for
from ._sdk import parse_duration


def parse_when(text: str, option: str) -> datetime | None:
    """ISO 8601 ("2026-11-23", "2026-11-23T17:00:00+00:00"; naive = UTC) or a duration ago ("7d")."""
    from arkive_core.errors import ArkiveError

    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.now(UTC) - parse_duration(text)
        except ArkiveError:
            from arkive_core.errors import InvalidArgument

            raise InvalidArgument(
                f"invalid {option} {text!r}: use ISO 8601 (2026-11-23T17:00:00+00:00) or 7d"
            ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _shown_keys(args: Args) -> list[str]:
    """Metadata keys worth a column: those filtered or sorted on."""
    import re

    keys: list[str] = []
    for w in args.where:
        m = re.match(r"\s*(?:metadata\.)?([^<>=!\s]+)", w)
        if m:
            keys.append(m.group(1))
    sort = args.sort.lstrip("-+")
    if sort and sort not in ("created_at", "version"):
        keys.append(sort.removeprefix("metadata."))
    return list(dict.fromkeys(keys))


def _lookup(metadata: dict[str, Any], key: str) -> Any:
    node: Any = metadata
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@click.command(
    "search",
    help="Live versions of a project matching every filter, sorted and paged. `arkive ls` keeps "
    "listing collections; this lists versions.\n\n\b\nexamples:\n"
    "  arkive search --type model --where 'metrics.accuracy>0.9' --sort metrics.accuracy --desc\n"
    "  arkive search --name 'res*' --tag gold --created-after 7d\n",
    short_help="search a project's versions by type, name, tags, alias, time, metadata, run",
)
@click.option("--type", "-t", default="", help="only versions of this artifact type")
@click.option("--name", "-n", default="", metavar="GLOB", help="collection name pattern ('*' and '?')")
@click.option("--tag", multiple=True, help="only versions with this tag (repeatable: all)")
@click.option("--alias", "-a", default="", help="only versions this alias points at (e.g. production)")
@click.option(
    "--where",
    "-w",
    multiple=True,
    metavar="PREDICATE",
    help="metadata predicate KEY OP VALUE, e.g. 'metadata.accuracy>0.9' (repeatable: all)",
)
@click.option("--created-after", default="", metavar="WHEN", help="ISO 8601 time, or a duration ago (7d, 12h)")
@click.option("--created-before", default="", metavar="WHEN", help="ISO 8601 time, or a duration ago")
@click.option("--run", default="", metavar="RUN_ID", help="only versions logged by this run")
@click.option("--all-projects", is_flag=True, help="search every project you may read instead of one (--project)")
@click.option(
    "--sort",
    default="",
    metavar="FIELD",
    help="created_at (default, newest first), version or a metadata key; descending with --desc or --sort=-KEY",
)
@click.option("--desc", is_flag=True, help="sort descending")
@click.option("--limit", type=int, default=50, help="at most this many versions (default 50; 0: all)")
@project_option()
@shared_options
@handler
def search(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    with usage_errors():
        after = parse_when(args.created_after, "--created-after")
        before = parse_when(args.created_before, "--created-before")
        if args.limit < 0:
            raise InvalidArgument("--limit must be 0 (all) or more")
        from arkive.catalog import normalize_predicate, order_by_text

        for w in args.where:
            normalize_predicate(w)
        order_by = order_by_text(args.sort, True if args.desc else None)
        if args.all_projects and args.project:
            raise InvalidArgument("--all-projects and --project exclude each other")
    with client_for(args) as client:
        from arkive.catalog import ALL_PROJECTS

        project = ALL_PROJECTS if args.all_projects else args.project or client.project
        versions = client.search(
            project,
            type=args.type or None,
            name=args.name or None,
            tags=args.tag,
            alias=args.alias or None,
            created_after=after,
            created_before=before,
            where=args.where,
            run_id=args.run or None,
            order_by=order_by,
            limit=args.limit or None,
        )
    if getattr(args, "json", False):
        where = {"all_projects": True} if args.all_projects else {"project": project}
        show.emit_json({**where, "order_by": order_by, "versions": [v.to_dict() for v in versions]})
        return 0
    keys = _shown_keys(args)
    from rich.table import Table

    out = show.console()
    if not versions:
        scope = "any project you may read" if args.all_projects else f"project {project}"
        out.print(f"no matching versions in {scope}", markup=False)
        return 0
    if not sys.stdout.isatty():  # piped: tab-separated lines, nothing cut to a terminal's width
        sys.stdout.write("\t".join(("ref", "type", "aliases", "tags", *keys, "size", "created")) + "\n")
        for v in versions:
            extra = [json.dumps(_lookup(v.metadata, k), ensure_ascii=False) for k in keys]
            row = [v.ref, v.type, ",".join(v.aliases) or "-", ",".join(v.tags) or "-", *extra]
            row += [str(v.total_size), v.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")]
            sys.stdout.write("\t".join(row) + "\n")
        return 0
    scope = "all projects" if args.all_projects else f"project {project}"
    table = Table(title=f"{scope}: {len(versions)} version{'s' if len(versions) != 1 else ''}")
    for col in ("ref", "type", "aliases", "tags", *keys, "size", "created"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for v in versions:
        extra = [json.dumps(_lookup(v.metadata, k), ensure_ascii=False) for k in keys]
        table.add_row(
            v.ref,
            v.type,
            ", ".join(v.aliases) or "-",
            ", ".join(v.tags) or "-",
            *extra,
            show.size(v.total_size),
            v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    out.print(table)
    return 0
