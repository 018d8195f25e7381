"""The catalogue of committed versions: `arkive meta set|unset`, `tag add|rm`, `describe`, `link`, and the
dataset preview of `arkive show REF --preview` (search in search.py)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from . import _output as show
from ._checks import check_ref
from ._options import Args, group, handler, project_option, shared_options, usage_errors
from ._sdk import client as client_for
from ._sdk import default_project

if TYPE_CHECKING:
    from arkive import ArtifactVersion


def parse_value(text: str) -> Any:
    """JSON when valid (numbers, true/false/null, arrays, objects, "quoted"), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    from arkive_core.errors import InvalidArgument

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


def _print_version(args: Args, v: ArtifactVersion) -> int:
    if args.json:
        show.emit_json(v.to_dict())
    else:
        show.version_details(v)
    return 0


@group("meta", short_help="set or unset metadata keys of a committed version (its files never change)")
def meta() -> None:
    """Set or unset metadata keys of a committed version (its files never change)."""


@meta.command(
    "set",
    help="Set metadata keys of the version REF resolves to. VALUE is parsed as JSON when valid "
    '(0.93, true, null, [1,2], {"a":1}), else taken as a string. Keys are paths and a set merges by path, '
    """as in the SDK: metrics.f1=0.5 (or metrics='{"f1":0.5}') sets f1 inside metrics, keeping its other keys.""",
    short_help="set metadata keys: KEY=VALUE (VALUE is JSON when valid, else a string)",
)
@click.argument("ref", metavar="REF")
@click.argument("pairs", metavar="KEY=VALUE", nargs=-1, required=True)
@project_option()
@shared_options
@handler
def meta_set(args: Args) -> int:
    check_ref(args.ref, args.project)
    with usage_errors():
        assign = parse_pairs(args.pairs)
    with client_for(args) as client:
        # The server merges by key path: "metrics.f1=0.5" sets f1 inside metrics, keeping its other keys.
        v = client.update_version(args.ref, metadata=assign or None, unset=[])
    return _print_version(args, v)


@meta.command("unset", short_help="remove metadata keys (dotted: inside an object)")
@click.argument("ref", metavar="REF")
@click.argument("keys", metavar="KEY", nargs=-1, required=True)
@project_option()
@shared_options
@handler
def meta_unset(args: Args) -> int:
    check_ref(args.ref, args.project)
    with client_for(args) as client:
        v = client.update_version(args.ref, metadata=None, unset=args.keys)
    return _print_version(args, v)


@group("tag", short_help="add or remove tags of a committed version")
def tag() -> None:
    """Add or remove tags of a committed version."""


def _tag_command(action: str, text: str) -> click.Command:
    @tag.command(action, short_help=text)
    @click.argument("ref", metavar="REF")
    @click.argument("tags", metavar="TAG", nargs=-1, required=True)
    @project_option()
    @shared_options
    @handler
    def change(args: Args) -> int:
        from arkive_core.validation import check_tag

        check_ref(args.ref, args.project)
        with usage_errors():
            for t in args.tags:
                check_tag(t)
        change = {"add_tags" if action == "add" else "remove_tags": args.tags}
        with client_for(args) as client:
            v = client.update_version(args.ref, **change)
        return _print_version(args, v)

    return change


tag_add = _tag_command("add", "add tags")
tag_rm = _tag_command("rm", "remove tags")


@click.command("describe", short_help="set the description of a committed version")
@click.argument("ref", metavar="REF")
@click.argument("text", metavar="TEXT")
@project_option()
@shared_options
@handler
def describe(args: Args) -> int:
    from arkive_core.validation import check_description

    check_ref(args.ref, args.project)
    with usage_errors():
        check_description(args.text)
    with client_for(args) as client:
        v = client.update_version(args.ref, description=args.text)
    return _print_version(args, v)


@click.command(
    "link",
    help="Link the version REF resolves to into TARGET ([project/]name, e.g. registry/model-zoo-resnet). "
    "The target's latest follows the newest link; --alias moves aliases onto this link.",
    short_help="link a version into a registry collection without copying bytes",
)
@click.argument("ref", metavar="REF")
@click.argument("target", metavar="TARGET")
@click.option("--alias", "-a", multiple=True, help="alias to move onto the link (repeatable)")
@project_option()
@shared_options
@handler
def link(args: Args) -> int:
    from arkive_core.validation import check_alias

    from arkive.catalog import split_target

    check_ref(args.ref, args.project)
    with usage_errors():
        for a in args.alias:
            check_alias(a)
        split_target(args.target, args.project or default_project())
    with client_for(args) as client:
        r = client.link(args.ref, args.target, aliases=args.alias)
    if args.json:
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
    show.console().print(table)
    if preview.get("columns_truncated"):
        show.warn(f"only the first {len(columns)} columns are previewed")
