"""CLI commands of aliases after logging: `arkive alias set REF ALIAS...`, `alias rm REF ALIAS...`,
`alias ls [PROJECT/]NAME`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arkive_common.errors import InvalidArgument

from . import _cli_output as show
from ._cli_parser import usage_errors


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    al = sub.add_parser(
        "alias",
        parents=[common],
        help="move aliases onto a version, remove them, or list a collection's aliases",
        description="Aliases name versions (production, staging). `set` moves each ALIAS onto the version REF "
        "resolves to (from wherever it pointed), `rm` removes them from it. `latest` follows the newest version "
        "by itself and cannot be set or removed.",
    )
    asub = al.add_subparsers(dest="alias_command", metavar="ACTION", parser_class=parser_class, required=True)
    st = asub.add_parser("set", parents=[common, proj], help="move aliases onto a version")
    st.add_argument("ref", metavar="REF")
    st.add_argument("aliases", metavar="ALIAS", nargs="+")
    rm = asub.add_parser("rm", parents=[common, proj], help="remove aliases from a version")
    rm.add_argument("ref", metavar="REF")
    rm.add_argument("aliases", metavar="ALIAS", nargs="+")
    ls = asub.add_parser("ls", parents=[common, proj], help="list the aliases of a collection")
    ls.add_argument("name", metavar="[PROJECT/]NAME")


def cmd_alias(args: argparse.Namespace) -> int:
    from .cli import _check_ref, _client

    with usage_errors():
        if args.alias_command == "ls":
            if ":" in args.name:
                raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
            _check_ref(args.name, args.project)
        else:
            from ._aliases import _checked

            _check_ref(args.ref, args.project)
            _checked(args.aliases, "aliases")
    with _client(args) as client:
        if args.alias_command == "ls":
            return _print_list(args, client.aliases(args.name))
        if args.alias_command == "set":
            v = client.set_aliases(args.ref, add=args.aliases)
        else:
            v = client.set_aliases(args.ref, remove=args.aliases)
    if getattr(args, "json", False):
        show.emit_json(v.to_dict())
    else:
        sys.stdout.write(f"{v.ref}: aliases {', '.join(v.aliases) or '-'}\n")
    return 0


def _print_list(args: argparse.Namespace, aliases: dict[str, Any]) -> int:
    if getattr(args, "json", False):
        show.emit_json({"collection": args.name, "aliases": [a.to_dict() for a in aliases.values()]})
        return 0
    if not aliases:
        sys.stdout.write(f"{args.name} has no aliases\n")
    width = max((len(a) for a in aliases), default=0)
    for a in aliases.values():
        sys.stdout.write(f"{a.alias:<{width}}  {a.ref}  {a.version_id}\n")
    return 0


COMMANDS = {"alias": cmd_alias}
