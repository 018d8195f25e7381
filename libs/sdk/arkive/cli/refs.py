"""Reference artifacts and register: `arkive log [PATH] --reference URI [--no-checksum]` (options added to
`log`) and `arkive register NAME s3://<arkive bucket>/prefix/`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from . import _output as show
from ._options import Args, handler, project_option, shared_options, usage_errors
from ._options import version_options as version_option_set
from ._sdk import client as client_for


def reference_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--reference, --no-checksum, --max-objects of `log`."""
    f = click.option("--max-objects", type=int, metavar="N", help="most objects an s3 prefix may expand to")(f)
    f = click.option("--no-checksum", is_flag=True, help="references record the URI alone (no verification)")(f)
    return click.option(
        "--reference",
        "-r",
        multiple=True,
        metavar="URI",
        help="also record s3://bucket/key, s3://bucket/prefix/, http(s)://... or file:///path by reference "
        "(no bytes copied; repeatable)",
    )(f)


def add_references(art: Any, args: Args) -> None:
    with usage_errors():
        for uri in args.reference:
            art.add_reference(uri, checksum=not args.no_checksum, max_objects=args.max_objects)


@click.command(
    "register",
    help="Link the objects under s3://<arkive bucket>/PREFIX/ (or one object) as the next version "
    "of NAME without copying them: the server reads and hashes each object once. arkive's internal "
    "blobs/ prefix and other buckets are refused (use `log --reference` for those).",
    short_help="link objects already in arkive's bucket as a new version (no copy)",
)
@click.argument("name", metavar="NAME")
@click.argument("uri", metavar="S3_URI")
@click.option("--type", "-t", default="dataset", help="artifact type (default: dataset)")
@version_option_set("for a new version", label=False)
@click.option("--max-objects", type=int, metavar="N", help="most objects the prefix may hold (default 10000)")
@project_option()
@shared_options
@handler
def register(args: Args) -> int:
    from arkive_core.validation import parse_metadata

    with usage_errors():
        metadata = parse_metadata(args.metadata)
        project, _, name = args.name.rpartition("/")
    with client_for(args) as client:
        v = client.register(
            name,
            args.uri,
            project or None,
            type=args.type,
            max_objects=args.max_objects,
            metadata=metadata,
            description=args.description,
            aliases=args.alias,
            tags=args.tag,
        )
    if args.json:
        show.emit_json({**v.to_dict(), "created": v.created})
    else:
        show.log_result(v)
    return 0
