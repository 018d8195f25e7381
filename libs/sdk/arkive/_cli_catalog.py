"""CLI commands of the catalogue: `arkive meta set|unset`, `tag add|rm`, `describe`, `search`, `link`,
and the dataset preview of `arkive show REF --preview`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from arkive_common.errors import ArkiveError, InvalidArgument

from . import _cli_output as show
from ._cli_parser import usage_errors
from .version import ArtifactVersion


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    me = sub.add_parser(
        "meta",
        parents=[common],
        help="set or unset metadata keys of a committed version (its files never change)",
    )
    msub = me.add_subparsers(dest="meta_command", metavar="ACTION", parser_class=parser_class, required=True)
    ms = msub.add_parser(
        "set",
        parents=[common, proj],
        help="set metadata keys: KEY=VALUE (VALUE is JSON when valid, else a string)",
        description="Set metadata keys of the version REF resolves to. VALUE is parsed as JSON when valid "
        '(0.93, true, null, [1,2], {"a":1}), else taken as a string. Keys are paths and a set merges by path, '
        "as in the SDK: metrics.f1=0.5 (or metrics='{\"f1\":0.5}') sets f1 inside metrics, keeping its other keys.",
    )
    ms.add_argument("ref", metavar="REF")
    ms.add_argument("pairs", metavar="KEY=VALUE", nargs="+")
    mu = msub.add_parser("unset", parents=[common, proj], help="remove metadata keys (dotted: inside an object)")
    mu.add_argument("ref", metavar="REF")
    mu.add_argument("keys", metavar="KEY", nargs="+")

    tg = sub.add_parser("tag", parents=[common], help="add or remove tags of a committed version")
    tsub = tg.add_subparsers(dest="tag_command", metavar="ACTION", parser_class=parser_class, required=True)
    for action, text in (("add", "add tags"), ("rm", "remove tags")):
        t = tsub.add_parser(action, parents=[common, proj], help=text)
        t.add_argument("ref", metavar="REF")
        t.add_argument("tags", metavar="TAG", nargs="+")

    de = sub.add_parser("describe", parents=[common, proj], help="set the description of a committed version")
    de.add_argument("ref", metavar="REF")
    de.add_argument("text", metavar="TEXT", help='the new description ("" clears it)')

    se = sub.add_parser(
        "search",
        parents=[common, proj],
        help="search a project's versions by type, name, tags, alias, time, metadata, run",
        description="Live versions of a project matching every filter, sorted and paged. `arkive ls` keeps "
        "listing collections; this lists versions.",
        epilog="examples:\n"
        "  arkive search --type model --where 'metrics.accuracy>0.9' --sort metrics.accuracy --desc\n"
        "  arkive search --name 'res*' --tag gold --created-after 7d\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    se.add_argument("--type", "-t", default="", help="only versions of this artifact type")
    se.add_argument("--name", "-n", default="", metavar="GLOB", help="collection name pattern ('*' and '?')")
    se.add_argument("--tag", action="append", default=[], help="only versions with this tag (repeatable: all)")
    se.add_argument("--alias", "-a", default="", help="only versions this alias points at (e.g. production)")
    se.add_argument(
        "--where",
        "-w",
        action="append",
        default=[],
        metavar="PREDICATE",
        help="metadata predicate KEY OP VALUE, e.g. 'metadata.accuracy>0.9' (repeatable: all)",
    )
    se.add_argument("--created-after", default="", metavar="WHEN", help="ISO 8601 time, or a duration ago (7d, 12h)")
    se.add_argument("--created-before", default="", metavar="WHEN", help="ISO 8601 time, or a duration ago")
    se.add_argument("--run", default="", metavar="RUN_ID", help="only versions logged by this run")
    se.add_argument(
        "--all-projects", action="store_true", help="search every project you may read instead of one (--project)"
    )
    se.add_argument(
        "--sort",
        default="",
        metavar="FIELD",
        help="created_at (default, newest first), version or a metadata key; descending with --desc or --sort=-KEY",
    )
    se.add_argument("--desc", action="store_true", help="sort descending")
    se.add_argument("--limit", type=int, default=50, help="at most this many versions (default 50; 0: all)")

    lk = sub.add_parser(
        "link",
        parents=[common, proj],
        help="link a version into a registry collection without copying bytes",
        description="Link the version REF resolves to into TARGET ([project/]name, e.g. registry/model-zoo-resnet). "
        "The target's latest follows the newest link; --alias moves aliases onto this link.",
    )
    lk.add_argument("ref", metavar="REF")
    lk.add_argument("target", metavar="TARGET")
    lk.add_argument("--alias", "-a", action="append", default=[], help="alias to move onto the link (repeatable)")


def _client(args: argparse.Namespace) -> Any:
    from .cli import _client as make

    return make(args)


def _ref(args: argparse.Namespace) -> str:
    """The REF argument, checked (a ref without a project is in --project: the client resolves it)."""
    from .cli import _check_ref

    _check_ref(args.ref, args.project)
    return args.ref


def parse_value(text: str) -> Any:
    """JSON when valid (numbers, true/false/null, arrays, objects, "quoted"), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidArgument(f"expected KEY=VALUE, got {pair!r}")
        if any(not part for part in key.split(".")):
            raise InvalidArgument(f"invalid metadata key {key!r}")
        out[key] = parse_value(value)
    return out


def _print_version(args: argparse.Namespace, v: ArtifactVersion) -> None:
    if getattr(args, "json", False):
        show.emit_json(v.to_dict())
    else:
        show.version_details(v)


def cmd_meta(args: argparse.Namespace) -> int:
    with usage_errors():
        ref = _ref(args)
        assign = parse_pairs(args.pairs) if args.meta_command == "set" else {}
        unset = list(args.keys) if args.meta_command == "unset" else []
    with _client(args) as client:
        # The server merges by key path: "metrics.f1=0.5" sets f1 inside metrics, keeping its other keys.
        v = client.update_version(ref, metadata=assign or None, unset=unset)
    _print_version(args, v)
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    with usage_errors():
        ref = _ref(args)
        from arkive_common.validation import check_tag

        for t in args.tags:
            check_tag(t)
    with _client(args) as client:
        if args.tag_command == "add":
            v = client.update_version(ref, add_tags=args.tags)
        else:
            v = client.update_version(ref, remove_tags=args.tags)
    _print_version(args, v)
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    with usage_errors():
        ref = _ref(args)
        from arkive_common.validation import check_description

        check_description(args.text)
    with _client(args) as client:
        v = client.update_version(ref, description=args.text)
    _print_version(args, v)
    return 0


def parse_when(text: str, option: str) -> datetime | None:
    """ISO 8601 ("2026-11-23", "2026-11-23T17:00:00+00:00"; naive = UTC) or a duration ago ("7d")."""
    if not text:
        return None
    from ._retention_types import parse_duration

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.now(UTC) - parse_duration(text)
        except ArkiveError:
            raise InvalidArgument(
                f"invalid {option} {text!r}: use ISO 8601 (2026-11-23T17:00:00+00:00) or 7d"
            ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _shown_keys(args: argparse.Namespace) -> list[str]:
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


def cmd_search(args: argparse.Namespace) -> int:
    with usage_errors():
        after = parse_when(args.created_after, "--created-after")
        before = parse_when(args.created_before, "--created-before")
        if args.limit < 0:
            raise InvalidArgument("--limit must be 0 (all) or more")
        from .catalog import normalize_predicate, order_by_text

        for w in args.where:
            normalize_predicate(w)
        order_by = order_by_text(args.sort, True if args.desc else None)
        if args.all_projects and args.project:
            raise InvalidArgument("--all-projects and --project exclude each other")
    with _client(args) as client:
        from .catalog import ALL_PROJECTS

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

    out = show._console()
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
            show._size(v.total_size),
            v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    out.print(table)
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    with usage_errors():
        ref = _ref(args)
        from arkive_common.validation import check_alias

        from ._rpc import default_project
        from .catalog import split_target

        for a in args.alias:
            check_alias(a)
        split_target(args.target, args.project or default_project())
    with _client(args) as client:
        r = client.link(ref, args.target, aliases=args.alias)
    if getattr(args, "json", False):
        show.emit_json(r.to_dict())
    else:
        what = "linked" if r.created else "already linked"
        aliases = f"; aliases: {', '.join(r.aliases)}" if r.aliases else ""
        sys.stdout.write(f"{what} {r.version.ref} as {r.ref} (no bytes copied){aliases}\n")
    return 0


def print_preview(v: ArtifactVersion) -> None:
    """The dataset preview stored in the metadata (log_dataset), as a table."""
    preview = v.metadata.get("preview") if isinstance(v.metadata, dict) else None
    if not isinstance(preview, dict) or not isinstance(preview.get("rows"), list):
        show.warn(f"{v.ref} has no preview (log it with client.log_dataset)")
        return
    from rich.table import Table

    columns = [str(c) for c in preview.get("columns", [])]
    shape = v.metadata.get("shape") or []
    title = f"{v.ref}: first {len(preview['rows'])} rows"
    if len(shape) == 2:
        title += f" of {shape[0]} x {shape[1]}"
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in preview["rows"]:
        table.add_row(*("" if x is None else x if isinstance(x, str) else json.dumps(x) for x in row))
    show._console().print(table)
    if preview.get("columns_truncated"):
        show.warn(f"only the first {len(columns)} columns are previewed")


COMMANDS = {
    "meta": cmd_meta,
    "tag": cmd_tag,
    "describe": cmd_describe,
    "search": cmd_search,
    "link": cmd_link,
}
