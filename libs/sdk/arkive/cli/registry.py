"""Registry collections: `arkive links COLLECTION` and `arkive unlink REF`."""

from __future__ import annotations

import sys

import click

from . import _output as show
from ._options import Args, handler, project_option, shared_options, usage_errors
from ._sdk import client as client_for
from ._sdk import default_project


@click.command(
    "links",
    help="Each link of COLLECTION ([project/]name, e.g. registry/model-zoo-resnet): its number there, "
    "the source version it names (or its id, if that was deleted) and the collection's aliases on it.",
    short_help="the links of a registry collection, newest first",
)
@click.argument("collection", metavar="COLLECTION")
@project_option()
@shared_options
@handler
def links(args: Args) -> int:
    from arkive_core.errors import InvalidArgument
    from arkive_core.refs import parse_ref

    with usage_errors():
        if ":" in args.collection:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.collection!r}")
        r = parse_ref(args.collection, args.project or default_project())
    with client_for(args) as client:
        found = client.links(f"{r.project}/{r.name}")
    if args.json:
        show.emit_json({"project": r.project, "name": r.name, "links": [link.to_dict() for link in found]})
        return 0
    if not found:
        sys.stdout.write(f"{r.project}/{r.name} has no links\n")
        return 0
    for link in found:
        source = link.source_ref if link.version is not None else f"{link.version_id} (deleted)"
        aliases = f"  [{', '.join(link.aliases)}]" if link.aliases else ""
        sys.stdout.write(f"{link.ref}  -> {source}  {link.linked_at:%Y-%m-%d %H:%M}{aliases}\n")
    return 0


@click.command(
    "unlink",
    help="Remove the link REF names (registry/zoo:v2, or an alias: registry/zoo:production). The "
    "collection's aliases on it go with it; its latest moves to the newest remaining link. Needs write on "
    "the registry's project.",
    short_help="remove a link from a registry collection (the source version stays)",
)
@click.argument("ref", metavar="REF")
@project_option()
@shared_options
@handler
def unlink(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    with usage_errors():
        if ":" not in args.ref:
            raise InvalidArgument(f"name the link: {args.ref}:vN or {args.ref}:ALIAS")
    with client_for(args) as client:
        r = client.unlink(args.ref)
    if args.json:
        show.emit_json(r.to_dict())
    else:
        gone = f"; aliases removed: {', '.join(r.aliases_removed)}" if r.aliases_removed else ""
        sys.stdout.write(f"unlinked {r.ref} (was {r.linked_from}; the version itself stays){gone}\n")
    return 0
