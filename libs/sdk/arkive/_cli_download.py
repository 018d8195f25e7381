"""CLI commands for local copies: `arkive checkout`, `verify`, `get --zip` and `cache info|cleanup`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from arkive_common.errors import ArkiveError

from . import _cli_output as show
from .engine.cache import CacheInfo, parse_size


def _size_arg(text: str) -> int:
    try:
        return parse_size(text)
    except ArkiveError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    prefix = parser_class(add_help=False)
    prefix.add_argument("--prefix", dest="path_prefix", metavar="FOLDER", help="only this folder of the version")

    co = sub.add_parser(
        "checkout",
        parents=[common, proj, prefix],
        help="make a folder hold exactly a version (download, delete what it lacks)",
        description="Download a version into DIR and delete the files under DIR (or DIR/--prefix) that the "
        "version does not have, with the folders that leaves empty. Nothing outside DIR is touched; "
        "symlinks under DIR are removed as links, never followed.",
    )
    co.add_argument("ref", metavar="REF")
    co.add_argument("dir", metavar="DIR")

    ve = sub.add_parser(
        "verify",
        parents=[common, proj, prefix],
        help="compare a folder with a version (exit code 1 when they differ)",
        description="List files under DIR that the version does not have (extra), that it has and DIR lacks "
        "(missing) and whose size or sha256 differs (changed). Writes nothing; exit code 1 unless clean.",
    )
    ve.add_argument("ref", metavar="REF")
    ve.add_argument("dir", metavar="DIR")

    ca = sub.add_parser(
        "cache",
        parents=[common],
        help="the local blob cache: 'cache info', 'cache cleanup SIZE'",
        description="Downloaded blobs are cached by digest in ARKIVE_CACHE_DIR (default ~/.cache/arkive), "
        "at most ARKIVE_CACHE_SIZE (default 10GiB; e.g. 500MB, 2GiB or bytes), least recently used "
        "first out. ARKIVE_CACHE=0 disables it.",
    )
    casub = ca.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=parser_class, required=True)
    casub.add_parser("info", parents=[common], help="location, entries, bytes and limit")
    cl = casub.add_parser("cleanup", parents=[common], help="evict least recently used blobs down to SIZE")
    cl.add_argument("size", type=_size_arg, metavar="SIZE", help="e.g. 1GB, 500MiB, bytes; 0 empties the cache")


def _client(args: argparse.Namespace) -> Any:
    from .cli import _client as make

    return make(args)


def _json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _check_ref(args: argparse.Namespace) -> None:
    from .cli import _check_ref as check

    check(args.ref, args.project)


def cmd_checkout(args: argparse.Namespace) -> int:
    _check_ref(args)
    with _client(args) as client:
        v = client.get_version(args.ref)
        r = client.checkout(v, args.dir, path_prefix=args.path_prefix)
    if _json(args):
        show.emit_json({**v.to_dict(), **r.to_dict()})
    else:
        show.download_result(v, r)
        for p in r.files_removed:
            print(f"removed {p}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    _check_ref(args)
    with _client(args) as client:
        v = client.get_version(args.ref)
        r = client.verify(v, args.dir, path_prefix=args.path_prefix)
    if _json(args):
        show.emit_json({"ref": v.ref, "version_id": v.version_id, **r.to_dict()})
    else:
        for label, paths in (("extra", r.extra), ("missing", r.missing), ("changed", r.changed)):
            for p in paths:
                print(f"{label}\t{json.dumps(p)[1:-1]}")  # escaped: a file name may hold newlines
        state = "clean" if r.clean else f"{len(r.extra)} extra, {len(r.missing)} missing, {len(r.changed)} changed"
        print(f"{v.ref} vs {r.path}: {r.files_checked} files checked, {state}", file=sys.stderr)
    return 0 if r.clean else 1


def get_zip(args: argparse.Namespace) -> int:
    """`arkive get REF --zip out.zip` (called by cli.cmd_get)."""
    with _client(args) as client:
        v = client.get_version(args.ref)
        r = client.download_zip(v, args.zip, path_prefix=args.path_prefix)
    if _json(args):
        show.emit_json({**v.to_dict(), **r.to_dict()})
    else:
        print(f"wrote {v.ref} to {r.path}: {r.files_written} files ({r.bytes_written} bytes)")
    return 0


def _info_text(info: CacheInfo) -> str:
    state = "" if info.enabled else " (disabled: ARKIVE_CACHE=0)"
    return f"cache {info.path}{state}: {info.entries} blobs, {info.bytes} bytes of {info.limit} allowed"


def cmd_cache(args: argparse.Namespace) -> int:
    from .engine.cache import cache_cleanup, cache_info

    if args.cache_command == "info":
        info = cache_info()
        if _json(args):
            show.emit_json(info.to_dict())
        else:
            print(_info_text(info))
        return 0
    r = cache_cleanup(args.size)
    if _json(args):
        show.emit_json(r.to_dict())
    else:
        print(f"removed {r.entries_removed} blobs ({r.bytes_freed} bytes); {_info_text(r.info)}")
    return 0


COMMANDS = {"checkout": cmd_checkout, "verify": cmd_verify, "cache": cmd_cache}
