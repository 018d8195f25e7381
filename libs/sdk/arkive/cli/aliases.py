"""Aliases after logging: `arkive alias set REF ALIAS...`, `alias rm REF ALIAS...`, `alias ls [PROJECT/]NAME`."""

from __future__ import annotations

import sys

import click

from . import _output as show
from ._checks import check_ref
from ._options import Args, group, handler, project_option, shared_options, usage_errors
from ._sdk import checked_aliases
from ._sdk import client as client_for


@group(
    "alias",
    help="Aliases name versions (production, staging). `set` moves each ALIAS onto the version REF "
    "resolves to (from wherever it pointed), `rm` removes them from it. `latest` follows the newest version "
    "by itself and cannot be set or removed.",
    short_help="move aliases onto a version, remove them, or list a collection's aliases",
)
def alias() -> None:
    pass


def _move(args: Args, add: bool) -> int:
    check_ref(args.ref, args.project)
    with usage_errors():
        checked_aliases(args.aliases)
    with client_for(args) as client:
        if add:
            v = client.set_aliases(args.ref, add=args.aliases)
        else:
            v = client.set_aliases(args.ref, remove=args.aliases)
    if args.json:
        show.emit_json(v.to_dict())
    else:
        sys.stdout.write(f"{v.ref}: aliases {', '.join(v.aliases) or '-'}\n")
    return 0


@alias.command("set", short_help="move aliases onto a version")
@click.argument("ref", metavar="REF")
@click.argument("aliases", metavar="ALIAS", nargs=-1, required=True)
@project_option()
@shared_options
@handler
def alias_set(args: Args) -> int:
    return _move(args, add=True)


@alias.command("rm", short_help="remove aliases from a version")
@click.argument("ref", metavar="REF")
@click.argument("aliases", metavar="ALIAS", nargs=-1, required=True)
@project_option()
@shared_options
@handler
def alias_rm(args: Args) -> int:
    return _move(args, add=False)


@alias.command("ls", short_help="list the aliases of a collection")
@click.argument("name", metavar="[PROJECT/]NAME")
@project_option()
@shared_options
@handler
def alias_ls(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    with usage_errors():
        if ":" in args.name:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
    check_ref(args.name, args.project)
    with client_for(args) as client:
        aliases = client.aliases(args.name)
    if args.json:
        show.emit_json({"collection": args.name, "aliases": [a.to_dict() for a in aliases.values()]})
        return 0
    if not aliases:
        sys.stdout.write(f"{args.name} has no aliases\n")
    width = max((len(a) for a in aliases), default=0)
    for a in aliases.values():
        sys.stdout.write(f"{a.alias:<{width}}  {a.ref}  {a.version_id}\n")
    return 0
