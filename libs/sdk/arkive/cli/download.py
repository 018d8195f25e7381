"""Local copies: `arkive checkout`, `verify`, `get --zip` and `cache info|cleanup`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from . import _output as show
from ._checks import check_ref
from ._options import Args, group, handler, project_option, shared_options
from ._sdk import SIZE
from ._sdk import client as client_for

if TYPE_CHECKING:
    from arkive import CacheInfo

prefix_option = click.option("--prefix", "path_prefix", metavar="FOLDER", help="only this folder of the version")


@click.command(
    "checkout",
    help="Download a version into DIR and delete the files under DIR (or DIR/--prefix) that the "
    "version does not have, with the folders that leaves empty. Nothing outside DIR is touched; "
    "symlinks under DIR are removed as links, never followed.",
    short_help="make a folder hold exactly a version (download, delete what it lacks)",
)
@click.argument("ref", metavar="REF")
@click.argument("dir", metavar="DIR")
@prefix_option
@project_option()
@shared_options
@handler
def checkout(args: Args) -> int:
    check_ref(args.ref, args.project)
    with client_for(args) as client:
        v = client.get_version(args.ref)
        r = client.checkout(v, args.dir, path_prefix=args.path_prefix)
    if args.json:
        show.emit_json({**v.to_dict(), **r.to_dict()})
    else:
        show.download_result(v, r)
        for p in r.files_removed:
            print(f"removed {p}")
    return 0


@click.command(
    "verify",
    help="List files under DIR that the version does not have (extra), that it has and DIR lacks "
    "(missing) and whose size or sha256 differs (changed). Writes nothing; exit code 1 unless clean.",
    short_help="compare a folder with a version (exit code 1 when they differ)",
)
@click.argument("ref", metavar="REF")
@click.argument("dir", metavar="DIR")
@prefix_option
@project_option()
@shared_options
@handler
def verify(args: Args) -> int:
    check_ref(args.ref, args.project)
    with client_for(args) as client:
        v = client.get_version(args.ref)
        r = client.verify(v, args.dir, path_prefix=args.path_prefix)
    if args.json:
        show.emit_json({"ref": v.ref, "version_id": v.version_id, **r.to_dict()})
    else:
        for label, paths in (("extra", r.extra), ("missing", r.missing), ("changed", r.changed)):
            for p in paths:
                print(f"{label}\t{json.dumps(p)[1:-1]}")  # escaped: a file name may hold newlines
        state = "clean" if r.clean else f"{len(r.extra)} extra, {len(r.missing)} missing, {len(r.changed)} changed"
        print(f"{v.ref} vs {r.path}: {r.files_checked} files checked, {state}", file=sys.stderr)
    return 0 if r.clean else 1


def get_zip(args: Args) -> int:
    """`arkive get REF --zip out.zip` (called by versions.get)."""
    with client_for(args) as client:
        v = client.get_version(args.ref)
        r = client.download_zip(v, args.zip, path_prefix=args.path_prefix)
    if args.json:
        show.emit_json({**v.to_dict(), **r.to_dict()})
    else:
        print(f"wrote {v.ref} to {r.path}: {r.files_written} files ({r.bytes_written} bytes)")
    return 0


@group(
    "cache",
    help="Downloaded blobs are cached by digest in ARKIVE_CACHE_DIR (default ~/.cache/arkive), "
    "at most ARKIVE_CACHE_SIZE (default 10GiB; e.g. 500MB, 2GiB or bytes), least recently used "
    "first out. ARKIVE_CACHE=0 disables it.",
    short_help="the local blob cache: 'cache info', 'cache cleanup SIZE'",
)
def cache() -> None:
    pass


def _info_text(info: CacheInfo) -> str:
    state = "" if info.enabled else " (disabled: ARKIVE_CACHE=0)"
    return f"cache {info.path}{state}: {info.entries} blobs, {info.bytes} bytes of {info.limit} allowed"


@cache.command("info", short_help="location, entries, bytes and limit")
@shared_options
@handler
def cache_info(args: Args) -> int:
    from arkive import cache_info as info_of

    info = info_of()
    if args.json:
        show.emit_json(info.to_dict())
    else:
        print(_info_text(info))
    return 0


@cache.command("cleanup", short_help="evict least recently used blobs down to SIZE")
@click.argument("size", type=SIZE, metavar="SIZE")
@shared_options
@handler
def cache_cleanup(args: Args) -> int:
    from arkive import cache_cleanup as cleanup

    r = cleanup(args.size)
    if args.json:
        show.emit_json(r.to_dict())
    else:
        print(f"removed {r.entries_removed} blobs ({r.bytes_freed} bytes); {_info_text(r.info)}")
    return 0
