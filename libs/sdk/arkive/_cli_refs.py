"""CLI of reference artifacts and register: `arkive log [PATH] --reference URI [--no-checksum]`
(options added to `log`) and `arkive register NAME s3://<arkive bucket>/prefix/`."""

from __future__ import annotations

import argparse
from typing import Any

from . import _cli_output as show
from ._cli_parser import usage_errors


def add_log_options(lg: argparse.ArgumentParser) -> None:
    lg.add_argument(
        "--reference",
        "-r",
        action="append",
        default=[],
        metavar="URI",
        help="also record s3://bucket/key, s3://bucket/prefix/, http(s)://... or file:///path by reference "
        "(no bytes copied; repeatable)",
    )
    lg.add_argument("--no-checksum", action="store_true", help="references record the URI alone (no verification)")
    lg.add_argument("--max-objects", type=int, metavar="N", help="most objects an s3 prefix may expand to")


def add_references(art: Any, args: argparse.Namespace) -> None:
    with usage_errors():
        for uri in args.reference:
            art.add_reference(uri, checksum=not args.no_checksum, max_objects=args.max_objects)


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    rg = sub.add_parser(
        "register",
        parents=[common, proj],
        help="link objects already in arkive's bucket as a new version (no copy)",
        description="Link the objects under s3://<arkive bucket>/PREFIX/ (or one object) as the next version "
        "of NAME without copying them: the server reads and hashes each object once. arkive's internal "
        "blobs/ prefix and other buckets are refused (use `log --reference` for those).",
    )
    rg.add_argument("name", metavar="NAME", help="[project/]name of the artifact")
    rg.add_argument("uri", metavar="S3_URI")
    rg.add_argument("--type", "-t", default="dataset", help="artifact type (default: dataset)")
    rg.add_argument("--alias", "-a", action="append", default=[], help="alias to point at the version (repeatable)")
    rg.add_argument("--tag", action="append", default=[], help="tag for a new version (repeatable)")
    rg.add_argument("--metadata", "-m", default="", metavar="JSON", help="metadata JSON object for a new version")
    rg.add_argument("--description", "-d", default="", help="description of a new version")
    rg.add_argument("--max-objects", type=int, metavar="N", help="most objects the prefix may hold (default 10000)")


def cmd_register(args: argparse.Namespace) -> int:
    from arkive_common.validation import parse_metadata

    from .cli import _client

    with usage_errors():
        metadata = parse_metadata(args.metadata)
        project, _, name = args.name.rpartition("/")
    with _client(args) as client:
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
    if getattr(args, "json", False):
        show.emit_json({**v.to_dict(), "created": v.created})
    else:
        show.log_result(v)
    return 0


COMMANDS = {"register": cmd_register}
