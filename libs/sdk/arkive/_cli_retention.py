"""CLI commands for retention: `arkive rm`, `undelete`, `ttl set|default`, `retention policy set|rm|ls`,
`retention plan|apply`, `gc` and `storage`."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from arkive_common.errors import ArkiveError, InvalidArgument

from . import _cli_output as show
from ._cli_parser import UsageError, usage_errors
from ._retention_types import (
    INHERIT,
    DeleteResult,
    GcResult,
    PolicyList,
    RetentionPlan,
    RetentionPolicy,
    StorageReport,
    format_duration,
    parse_duration,
)
from ._when import as_of_datetime as parse_as_of

NEVER = ("never", "none", "off")


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ArkiveError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _ttl(text: str) -> timedelta | str | None:
    """A TTL on the command line: a duration, "never" (None) or "inherit"."""
    low = text.strip().lower()
    if low in NEVER:
        return None
    if low == INHERIT:
        return INHERIT
    try:
        return parse_duration(text)
    except ArkiveError:
        raise argparse.ArgumentTypeError(
            f"invalid TTL {text!r}: use e.g. 30d, 12h, 15m, 90s, never or inherit"
        ) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    rm = sub.add_parser(
        "rm",
        parents=[common, proj],
        help="soft-delete a version (or a whole collection with --collection)",
        description="Soft-delete the version REF resolves to: hidden from every read, latest moves back to the "
        "newest remaining version, and `arkive undelete` restores it within the grace window. A version holding "
        "an alias other than latest is refused unless --delete-aliases.",
    )
    rm.add_argument("ref", metavar="REF", nargs="?", help="the version to delete")
    rm.add_argument("--collection", metavar="[PROJECT/]NAME", help="delete every version of this collection")
    rm.add_argument("--delete-aliases", action="store_true", help="also remove the aliases the version(s) hold")
    rm.add_argument("--purge", action="store_true", help="irrevocable: no undelete, and GC may free the bytes at once")

    ud = sub.add_parser(
        "undelete", parents=[common, proj], help="restore a deleted version (or collection) within the grace window"
    )
    ud.add_argument("ref", metavar="REF", nargs="?", help="version id, [project/]name:vN or a label")
    ud.add_argument("--collection", metavar="[PROJECT/]NAME", help="restore every version of this collection")

    ttl = sub.add_parser("ttl", parents=[common], help="time to live of a version, or a project's default")
    tsub = ttl.add_subparsers(dest="ttl_command", metavar="ACTION", parser_class=parser_class, required=True)
    ts = tsub.add_parser(
        "set",
        parents=[common, proj],
        help="a version's TTL: 30d, 12h, 15m, 90s; never; or inherit (the project default)",
    )
    ts.add_argument("ref", metavar="REF")
    ts.add_argument("ttl", metavar="TTL", type=_ttl, help="30d|12h|15m|90s, never or inherit")
    td = tsub.add_parser(
        "default", parents=[common, proj], help="a project's default TTL (of one --type); never removes it"
    )
    td.add_argument("--type", "-t", default="", help="only versions of this type (default: every type)")
    td.add_argument("ttl", metavar="TTL", type=_ttl, help="30d|12h|15m|90s or never")

    rt = sub.add_parser("retention", parents=[common], help="retention policies; plan (dry run) and apply")
    rsub = rt.add_subparsers(dest="retention_command", metavar="ACTION", parser_class=parser_class, required=True)
    pol = rsub.add_parser("policy", parents=[common], help="set, remove or list retention policies")
    psub = pol.add_subparsers(dest="policy_command", metavar="ACTION", parser_class=parser_class, required=True)
    ps = psub.add_parser(
        "set",
        parents=[common, proj],
        help="create or replace a policy",
        description="Keep the newest N versions (--keep-last) and/or the best N by a metadata metric "
        "(--keep-best N --metric KEY [--mode max|min]) of each collection; with --max-age only older versions "
        "are deleted (alone: every older version is). Aliases other than latest always protect a version.",
    )
    ps.add_argument("name", metavar="NAME", help="policy name (unique per project)")
    ps.add_argument("--type", "-t", default="", help="only collections of this type")
    ps.add_argument("--match", default="", metavar="PATTERN", help="only collections whose name matches (fnmatch)")
    ps.add_argument("--keep-last", type=_count, default=0, metavar="N", help="keep the newest N versions")
    ps.add_argument("--keep-best", type=_count, default=0, metavar="N", help="keep the best N versions by --metric")
    ps.add_argument("--metric", default="", help="metadata key for --keep-best (dotted for nested keys)")
    ps.add_argument("--mode", choices=("max", "min"), default="max", help="higher (max, default) or lower is better")
    ps.add_argument("--max-age", type=_duration, metavar="DURATION", help="only delete versions older than this")
    ps.add_argument(
        "--manual",
        action="store_true",
        help="apply only with `retention apply`, not on the server's schedule (ARKIVE_RETENTION_INTERVAL)",
    )
    pr = psub.add_parser("rm", parents=[common, proj], help="remove a policy")
    pr.add_argument("name", metavar="NAME")
    psub.add_parser("ls", parents=[common, proj], help="list a project's policies and default TTLs")
    pl = rsub.add_parser("plan", parents=[common, proj], help="dry run: what TTLs and policies would delete, and why")
    pl.add_argument("--as-of", default="", help="evaluate at this ISO 8601 time (default: now)")
    pl.add_argument("--limit", type=_count, default=0, help="list at most this many (default 1000, at most 5000)")
    ap = rsub.add_parser("apply", parents=[common, proj], help="delete what the plan lists (soft deletes)")
    ap.add_argument("--as-of", default="", help="evaluate at this ISO 8601 time (default: now)")

    gc = sub.add_parser(
        "gc",
        parents=[common],
        help="garbage-collect unreferenced blobs (every project)",
        description="Mark and sweep of the blobs no live version, recently deleted version or open draft "
        "references, in every project. Blobs stored within --grace are kept: it must exceed the longest upload.",
    )
    gc.add_argument("--grace", type=_duration, default=timedelta(days=1), metavar="DURATION", help="default 1d")
    gc.add_argument("--dry-run", action="store_true", help="only report what would be freed")
    gc.add_argument("--skip-staging", action="store_true", help="leave staging objects (unregistered uploads) alone")
    gc.add_argument("--repack", action="store_true", help="then rewrite packs whose live bytes fell below half")

    st = sub.add_parser(
        "storage", parents=[common], help="bytes stored and referenced per collection; what GC would free"
    )
    st.add_argument("--project", "-p", help="only this project (default: every project)")


def _client(args: argparse.Namespace) -> Any:
    from .cli import _client as make

    return make(args)


def _json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _target(args: argparse.Namespace, verb: str) -> tuple[str | None, tuple[str, str] | None]:
    """(ref, None) or (None, (project, name)) from REF / --collection, checked (usage errors)."""
    from ._rpc import default_project
    from .engine.local import split_name as _split_name

    if bool(args.ref) == bool(args.collection):
        raise UsageError(f"{verb} takes REF or --collection NAME (one of them) (see 'arkive {verb} --help')")
    with usage_errors():
        if args.collection:
            return None, _split_name(args.collection, args.project or default_project())
        from .cli import _check_ref

        _check_ref(args.ref, args.project)
        return args.ref, None


def _where(ref: str | None, col: tuple[str, str] | None) -> dict[str, Any]:
    if ref is not None:
        return {"ref": ref}
    assert col is not None  # _target gives a ref or a collection
    return {"project": col[0], "name": col[1]}


def _what(ref: str | None, col: tuple[str, str] | None) -> str:
    """The ref, or project/name of the collection, as messages name it."""
    if ref:
        return ref
    assert col is not None  # _target gives a ref or a collection
    return f"{col[0]}/{col[1]}"


def _changes_text(action: str, what: str, changes: Any, skipped: Any = ()) -> None:
    if not changes:
        print(f"nothing {action} in {what}")
    for c in changes:
        print(f"{action} v{c.version} ({c.version_id}) of {what}")
    for s in skipped:
        print(f"skipped v{s.version} ({s.version_id}): {s.reason}")


def cmd_rm(args: argparse.Namespace) -> int:
    ref, col = _target(args, "rm")
    with _client(args) as client:
        if col is not None:
            r: DeleteResult = client.delete_collection(
                f"{col[0]}/{col[1]}", delete_aliases=args.delete_aliases, purge=args.purge
            )
        else:
            r = client.delete(ref, delete_aliases=args.delete_aliases, purge=args.purge)
    if _json(args):
        show.emit_json({**_where(ref, col), "purge": args.purge, **r.to_dict()})
    else:
        _changes_text("purged" if args.purge else "deleted", _what(ref, col), r.deleted, r.skipped)
    return 0


def cmd_undelete(args: argparse.Namespace) -> int:
    ref, col = _target(args, "undelete")
    with _client(args) as client:
        r = client.undelete_collection(f"{col[0]}/{col[1]}") if col is not None else client.undelete(ref)
    if _json(args):
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


def cmd_ttl(args: argparse.Namespace) -> int:
    if args.ttl_command == "set":
        from .cli import _check_ref

        _check_ref(args.ref, args.project)
        with _client(args) as client:
            client.set_ttl(args.ref, args.ttl)
        doc = {"ref": args.ref, "ttl": _ttl_text(args.ttl), "ttl_seconds": _ttl_seconds(args.ttl)}
        text = f"ttl of {args.ref}: {doc['ttl']}"
    else:
        if args.ttl == INHERIT:
            raise UsageError("a default TTL is a duration or never (see 'arkive ttl default --help')")
        with usage_errors():
            from arkive_common.validation import check_type

            if args.type:
                check_type(args.type)
        with _client(args) as client:
            client.set_default_ttl(None, args.ttl, args.type or None)
            project = client.project
        doc = {"project": project, "type": args.type, "ttl": _ttl_text(args.ttl), "ttl_seconds": _ttl_seconds(args.ttl)}
        what = f"{args.type} versions" if args.type else "versions"
        text = f"default ttl of {what} in project {project}: {doc['ttl']}"
    if _json(args):
        show.emit_json(doc)
    else:
        print(text)
    return 0


def _policy_line(p: RetentionPolicy) -> str:
    rules = []
    if p.keep_last:
        rules.append(f"keep last {p.keep_last}")
    if p.keep_best:
        rules.append(f"keep best {p.keep_best} by {p.metric} ({p.mode})")
    if p.max_age:
        rules.append(f"older than {format_duration(p.max_age.total_seconds())}")
    scope = " ".join(
        x for x in (f"type {p.type}" if p.type else "", f"names {p.name_pattern}" if p.name_pattern else "") if x
    )
    return f"{p.name}: {', '.join(rules)}" + (f"  [{scope}]" if scope else "") + ("  (manual)" if p.manual else "")


def _policies_text(pl: PolicyList) -> None:
    if not pl.policies and not pl.default_ttls:
        print(f"no retention policies or default TTLs in project {pl.project}")
        return
    for p in pl.policies:
        print(_policy_line(p))
    for t, d in pl.default_ttls.items():
        print(f"default ttl{' of ' + t if t else ''}: {format_duration(d.total_seconds())}")


def _plan_text(plan: RetentionPlan) -> None:
    for d in plan.deletions:
        print(f"{d.project}/{d.name}:v{d.version}  {d.version_id}  {'; '.join(d.reasons)}")
    for k in plan.protected:
        print(f"{k.project}/{k.name}:v{k.version}  {k.version_id}  kept by alias {', '.join(k.aliases)}")
    more = plan.total_deletions - len(plan.deletions)
    summary = f"{plan.total_deletions} versions would be deleted in project {plan.project}"
    if more > 0:
        summary += f" ({more} not listed; raise --limit)"
    if plan.protected_versions:
        summary += f"; {plan.protected_versions} more are protected by aliases"
    print(summary)


def cmd_retention(args: argparse.Namespace) -> int:
    with usage_errors():
        as_of = parse_as_of(getattr(args, "as_of", ""))
        if args.retention_command == "policy" and args.policy_command == "set":
            if args.type:
                from arkive_common.validation import check_type

                check_type(args.type)
            if args.keep_best and not args.metric:
                raise InvalidArgument("--keep-best needs --metric (a metadata key such as accuracy or metrics.loss)")
            if not (args.keep_last or args.keep_best or args.max_age):
                raise InvalidArgument("a policy needs --keep-last, --keep-best or --max-age")
        if getattr(args, "limit", 0) > 5000:
            raise InvalidArgument("--limit is at most 5000")
    doc: Any
    with _client(args) as client:
        project = client.project
        if args.retention_command == "plan":
            plan = client.retention_plan(as_of=as_of, limit=args.limit)
            doc, text = plan.to_dict(), lambda: _plan_text(plan)
        elif args.retention_command == "apply":
            r = client.retention_apply(as_of=as_of)
            doc = r.to_dict()
            text = lambda: _apply_text(r.deleted, r.skipped, project)  # noqa: E731
        elif args.policy_command == "set":
            p = client.put_policy(
                args.name,
                type=args.type or None,
                name_pattern=args.match,
                keep_last=args.keep_last,
                keep_best=args.keep_best,
                metric=args.metric,
                mode=args.mode,
                max_age=args.max_age,
                manual=args.manual,
            )
            doc, text = p.to_dict(), lambda: print(f"policy set in project {p.project}: {_policy_line(p)}")
        elif args.policy_command == "rm":
            client.remove_policy(args.name)
            doc = {"project": project, "name": args.name, "removed": True}
            text = lambda: print(f"removed policy {args.name} of project {project}")  # noqa: E731
        else:
            pl = client.policies()
            doc, text = pl.to_dict(), lambda: _policies_text(pl)
    if _json(args):
        show.emit_json(doc)
    else:
        text()
    return 0


def _apply_text(deleted: int, skipped: Any, project: str) -> None:
    print(f"deleted {deleted} versions in project {project} (undeletable within the grace window)")
    for s in skipped:
        print(f"skipped v{s.version} ({s.version_id}): {s.reason}")


def _gc_text(r: GcResult) -> None:
    size = show._size
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


def cmd_gc(args: argparse.Namespace) -> int:
    with _client(args) as client:
        r = client.collect_garbage(args.grace, args.dry_run, skip_staging=args.skip_staging, repack=args.repack)
    if _json(args):
        show.emit_json({"grace_seconds": args.grace.total_seconds(), **r.to_dict()})
    else:
        _gc_text(r)
    return 0


def _storage_text(r: StorageReport) -> None:
    from rich.table import Table

    size = show._size
    out = show._console()
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


def cmd_storage(args: argparse.Namespace) -> int:
    with _client(args) as client:
        r = client.storage(args.project or None)
    if _json(args):
        show.emit_json(r.to_dict())
    else:
        _storage_text(r)
    return 0


COMMANDS = {
    "rm": cmd_rm,
    "undelete": cmd_undelete,
    "ttl": cmd_ttl,
    "retention": cmd_retention,
    "gc": cmd_gc,
    "storage": cmd_storage,
}
