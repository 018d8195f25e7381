"""CLI of registry collections: `arkive links COLLECTION` and `arkive unlink REF`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _cli_output as show


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    ls = sub.add_parser(
        "links",
        parents=[common, proj],
        help="the links of a registry collection, newest first",
        description="Each link of COLLECTION ([project/]name, e.g. registry/model-zoo-resnet): its number there, "
        "the source version it names (or its id, if that was deleted) and the collection's aliases on it.",
    )
    ls.add_argument("collection", metavar="COLLECTION")
    un = sub.add_parser(
        "unlink",
        parents=[common, proj],
        help="remove a link from a registry collection (the source version stays)",
        description="Remove the link REF names (registry/zoo:v2, or an alias: registry/zoo:production). The "
        "collection's aliases on it go with it; its latest moves to the newest remaining link. Needs write on "
        "the registry's project.",
    )
    un.add_argument("ref", metavar="REF")


def cmd_links(args: argparse.Namespace) -> int:
    from arkive_common.errors import InvalidArgument
    from arkive_common.refs import parse_ref

    from ._cli_parser import usage_errors
    from ._rpc import default_project
    from .cli import _client

    with usage_errors():
        if ":" in args.collection:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.collection!r}")
        r = parse_ref(args.collection, args.project or default_project())
    with _client(args) as client:
        links = client.links(f"{r.project}/{r.name}")
    if getattr(args, "json", False):
        show.emit_json({"project": r.project, "name": r.name, "links": [link.to_dict() for link in links]})
        return 0
    if not links:
        sys.stdout.write(f"{r.project}/{r.name} has no links\n")
        return 0
    for link in links:
        source = link.source_ref if link.version is not None else f"{link.version_id} (deleted)"
        aliases = f"  [{', '.join(link.aliases)}]" if link.aliases else ""
        sys.stdout.write(f"{link.ref}  -> {source}  {link.linked_at:%Y-%m-%d %H:%M}{aliases}\n")
    return 0


def cmd_unlink(args: argparse.Namespace) -> int:
    from arkive_common.errors import InvalidArgument

    from ._cli_parser import usage_errors
    from .cli import _client

    with usage_errors():
        if ":" not in args.ref:
            raise InvalidArgument(f"name the link: {args.ref}:vN or {args.ref}:ALIAS")
    with _client(args) as client:
        r = client.unlink(args.ref)
    if getattr(args, "json", False):
        show.emit_json(r.to_dict())
    else:
        gone = f"; aliases removed: {', '.join(r.aliases_removed)}" if r.aliases_removed else ""
        sys.stdout.write(f"unlinked {r.ref} (was {r.linked_from}; the version itself stays){gone}\n")
    return 0


COMMANDS = {"links": cmd_links, "unlink": cmd_unlink}
