"""Deleting and expiring: `arkive rm`, `undelete`, `ttl set|default`, `gc` and `storage` (retention
policies in policies.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from . import _output as show
from ._checks import check_ref
from ._options import Args, Checked, UsageError, group, handler, project_option, shared_options, usage_errors
from ._sdk import DURATION, format_duration, parse_duration, split_name
from ._sdk import client as client_for

if TYPE_CHECKING:
    from arkive import GcResult, StorageReport

NEVER = ("never", "none", "off")
INHERIT = "inherit"  # arkive.INHERIT: follow the project's default TTL


def _ttl(text: str) -> timedelta | str | None:
    """A TTL on the command line: a duration, "never" (None) or "inherit"."""
    from arkive_core.errors import ArkiveError

    low = text.strip().lower()
    if low in NEVER:
        return None
    if low == INHERIT:
        return INHERIT
    try:
        return parse_duration(text)
    except ArkiveError:
        raise ValueError(f"invalid TTL {text!r}: use e.g. 30d, 12h, 15m, 90s, never or inherit") from None


TTL = Checked(_ttl, "ttl")


def _target(args: Args, verb: str) -> tuple[str, tuple[str, str] | None]:
    """(ref, None) or ("", (project, name)) from REF / --collection, checked (usage errors)."""
    if bool(args.ref) == bool(args.collection):
        raise UsageError(f"{verb} takes REF or --collection NAME (one of them) (see 'arkive {verb} --help')")
    if args.collection:
        with usage_errors():
            return "", split_name(args.collection, args.project)
    check_ref(args.ref, args.project)
    return args.ref, None


def _where(ref: str, col: tuple[str, str] | None) -> dict[str, Any]:
    return {"ref": ref} if col is None else {"project": col[0], "name": col[1]}


def _what(ref: str, col: tuple[str, str] | None) -> str:
    """The ref, or project/name of the collection, as messages name it."""
    return ref if col is None else f"{col[0]}/{col[1]}"


def _changes_text(action: str, what: str, changes: Any, skipped: Any = ()) -> None:
    if not changes:
        print(f"nothing {action} in {what}")
    for c in changes:
        print(f"{action} v{c.version} ({c.version_id}) of {what}")
    for s in skipped:
        print(f"skipped v{s.version} ({s.version_id}): {s.reason}")


@click.command(
    "rm",
    help="Soft-delete the version REF resolves to: hidden from every read, latest moves back to the "
    "newest remaining version, and `arkive undelete` restores it within the grace window. A version holding "
    "an alias other than latest is refused unless --delete-aliases.",
    short_help="soft-delete a version (or a whole collection with --collection)",
)
@click.argument("ref", metavar="REF", required=False)
@click.option("--collection", metavar="[PROJECT/]NAME", help="delete every version of this collection")
@click.option("--delete-aliases", is_flag=True, help="also remove the aliases the version(s) hold")
@click.option("--purge", is_flag=True, help="irrevocable: no undelete, and GC may free the bytes at once")
@project_option()
@shared_options
@handler
def rm(args: Args) -> int:
    ref, col = _target(args, "rm")
    with client_for(args) as client:
        if col is not None:
            r = client.delete_collection(f"{col[0]}/{col[1]}", delete_aliases=args.delete_aliases, purge=args.purge)
        else:
            r = client.delete(ref, delete_aliases=args.delete_aliases, purge=args.purge)
    if args.json:
        show.emit_json({**_where(ref, col), "purge": args.purge, **r.to_dict()})
    else:
        _changes_text("purged" if args.purge else "deleted", _what(ref, col), r.deleted, r.skipped)
    return 0


@click.command("undelete", short_help="restore a deleted version (or collection) within the grace window")
@click.argument("ref", metavar="REF", required=False)
@click.option("--collection", metavar="[PROJECT/]NAME", help="restore every version of this collection")
@project_option()
@shared_options
@handler
def undelete(args: Args) -> int:
    ref, col = _target(args, "undelete")
    with client_for(args) as client:
        r = client.undelete_collection(f"{col[0]}/{col[1]}") if col is not None else client.undelete(ref)
    if args.json:
        show.emit_json({**_where(ref, col), **r.to_dict()})
    else:
        _changes_text("restored", _what(ref, col), r.undeleted)
    return 0


def _ttl_seconds(ttl: timedelta | str | None) -> int:
    """-1 = inherit (INHERIT is the only string the ttl options give), 0 = never."""
    if isinstance(ttl, timedelta):
        return int(ttl.total_seconds())
    return 0 if ttl is None else -1


def _ttl_text(ttl: timedelta | str | None) -> str:
    if isinstance(ttl, timedelta):
        return format_duration(ttl.total_seconds())
    return "never" if ttl is None else INHERIT


def _print(args: Args, doc: dict[str, Any], text: str) -> int:
    if args.json:
        show.emit_json(doc)
    else:
        print(text)
    return 0


@group("ttl", short_help="time to live of a version, or a project's default")
def ttl() -> None:
    """Time to live of a version, or a project's default."""


@ttl.command("set", short_help="a version's TTL: 30d, 12h, 15m, 90s; never; or inherit (the project default)")
@click.argument("ref", metavar="REF")
@click.argument("ttl", metavar="TTL", type=TTL)
@project_option()
@shared_options
@handler
def ttl_set(args: Args) -> int:
    check_ref(args.ref, args.project)
    with client_for(args) as client:
        client.set_ttl(args.ref, args.ttl)
    doc = {"ref": args.ref, "ttl": _ttl_text(args.ttl), "ttl_seconds": _ttl_seconds(args.ttl)}
    return _print(args, doc, f"ttl of {args.ref}: {doc['ttl']}")


@ttl.command("default", short_help="a project's default TTL (of one --type); never removes it")
@click.option("--type", "-t", default="", help="only versions of this type (default: every type)")
@click.argument("ttl", metavar="TTL", type=TTL)
@project_option()
@shared_options
@handler
def ttl_default(args: Args) -> int:
    if args.ttl == INHERIT:
        raise UsageError("a default TTL is a duration or never (see 'arkive ttl default --help')")
    with usage_errors():
        from arkive_core.validation import check_type

        if args.type:
            check_type(args.type)
    with client_for(args) as client:
        client.set_default_ttl(None, args.ttl, args.type or None)
        project = client.project
    doc = {"project": project, "type": args.type, "ttl": _ttl_text(args.ttl), "ttl_seconds": _ttl_seconds(args.ttl)}
    what = f"{args.type} versions" if args.type else "versions"
    return _print(args, doc, f"default ttl of {what} in project {project}: {doc['ttl']}")


def _gc_text(r: GcResult) -> None:
    size = show.size
    if r.dry_run:
        print(
            f"dry run: {r.blobs_unreferenced} of {r.blobs_total} blobs unreferenced; "
            f"would free {size(r.bytes_freed)} of {size(r.bytes_total)}"
        )
        return
    print(
        f"deleted {r.blobs_deleted} of {r.blobs_total} blobs, freed {size(r.bytes_freed)}; "
        f"{r.staging_deleted} staging objects deleted, {r.pending_purged} purges completed ({r.seconds:.1f} s)"
    )
    if r.packs_repacked:
        print(f"repacked {r.packs_repacked} packs: {r.blobs_repacked} blobs, {size(r.bytes_repacked)} copied")


@click.command(
    "gc",
    help="Mark and sweep of the blobs no live version, recently deleted version or open draft "
    "references, in every project. Blobs stored within --grace are kept: it must exceed the longest upload.",
    short_help="garbage-collect unreferenced blobs (every project)",
)
@click.option("--grace", type=DURATION, default="1d", metavar="DURATION", help="default 1d")
@click.option("--dry-run", is_flag=True, help="only report what would be freed")
@click.option("--skip-staging", is_flag=True, help="leave staging objects (unregistered uploads) alone")
@click.option("--repack", is_flag=True, help="then rewrite packs whose live bytes fell below half")
@shared_options
@handler
def gc(args: Args) -> int:
    with client_for(args) as client:
        r = client.collect_garbage(args.grace, args.dry_run, skip_staging=args.skip_staging, repack=args.repack)
    if args.json:
        show.emit_json({"grace_seconds": args.grace.total_seconds(), **r.to_dict()})
    else:
        _gc_text(r)
    return 0


def _storage_text(r: StorageReport) -> None:
    from rich.table import Table

    size = show.size
    out = show.console()
    where = f"project {r.project}" if r.project else "every project"
    out.print(
        f"stored: {r.blobs_stored} blobs, {size(r.bytes_stored)} (all projects); "
        f"reclaimable by gc: {r.reclaimable_blobs} blobs, {size(r.reclaimable_bytes)}",
        markup=False,
    )
    if not r.collections:
        out.print(f"no collections in {where}", markup=False)
        return
    table = Table(title=f"storage of {where}")
    table.add_column("collection")
    for col in ("versions", "deleted", "logical", "referenced"):
        table.add_column(col, justify="right")
    for c in r.collections:
        table.add_row(
            f"{c.project}/{c.name}",
            str(c.versions),
            str(c.deleted_versions),
            size(c.logical_bytes),
            size(c.referenced_bytes),
        )
    out.print(table)


@click.command("storage", short_help="bytes stored and referenced per collection; what GC would free")
@project_option(help="only this project (default: every project)")
@shared_options
@handler
def storage(args: Args) -> int:
    with client_for(args) as client:
        r = client.storage(args.project or None)
    if args.json:
        show.emit_json(r.to_dict())
    else:
        _storage_text(r)
    return 0
