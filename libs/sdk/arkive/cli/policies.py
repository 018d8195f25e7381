"""Retention policies: `arkive retention policy set|rm|ls`, `retention plan` (dry run) and `retention apply`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from . import _output as show
from ._options import COUNT, ArgparseChoice, Args, group, handler, project_option, shared_options, usage_errors
from ._sdk import DURATION, as_of_datetime, format_duration
from ._sdk import client as client_for

if TYPE_CHECKING:
    from arkive import PolicyList, RetentionPlan, RetentionPolicy


@group("retention", short_help="retention policies; plan (dry run) and apply")
def retention() -> None:
    """Retention policies; plan (dry run) and apply."""


@group("policy", short_help="set, remove or list retention policies")
def policy() -> None:
    """Set, remove or list retention policies."""


retention.add_command(policy)


def _emit(args: Args, doc: dict[str, Any], text: Any) -> int:
    if args.json:
        show.emit_json(doc)
    else:
        text()
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


@policy.command(
    "set",
    help="Keep the newest N versions (--keep-last) and/or the best N by a metadata metric "
    "(--keep-best N --metric KEY [--mode max|min]) of each collection; with --max-age only older versions "
    "are deleted (alone: every older version is). Aliases other than latest always protect a version.",
    short_help="create or replace a policy",
)
@click.argument("name", metavar="NAME")
@click.option("--type", "-t", default="", help="only collections of this type")
@click.option("--match", default="", metavar="PATTERN", help="only collections whose name matches (fnmatch)")
@click.option("--keep-last", type=COUNT, default=0, metavar="N", help="keep the newest N versions")
@click.option("--keep-best", type=COUNT, default=0, metavar="N", help="keep the best N versions by --metric")
@click.option("--metric", default="", help="metadata key for --keep-best (dotted for nested keys)")
@click.option(
    "--mode", type=ArgparseChoice(("max", "min")), default="max", help="higher (max, default) or lower is better"
)
@click.option("--max-age", type=DURATION, metavar="DURATION", help="only delete versions older than this")
@click.option(
    "--manual",
    is_flag=True,
    help="apply only with `retention apply`, not on the server's schedule (ARKIVE_RETENTION_INTERVAL)",
)
@project_option()
@shared_options
@handler
def policy_set(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    with usage_errors():
        if args.type:
            from arkive_core.validation import check_type

            check_type(args.type)
        if args.keep_best and not args.metric:
            raise InvalidArgument("--keep-best needs --metric (a metadata key such as accuracy or metrics.loss)")
        if not (args.keep_last or args.keep_best or args.max_age):
            raise InvalidArgument("a policy needs --keep-last, --keep-best or --max-age")
    with client_for(args) as client:
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
    return _emit(args, p.to_dict(), lambda: print(f"policy set in project {p.project}: {_policy_line(p)}"))


@policy.command("rm", short_help="remove a policy")
@click.argument("name", metavar="NAME")
@project_option()
@shared_options
@handler
def policy_rm(args: Args) -> int:
    with client_for(args) as client:
        client.remove_policy(args.name)
        project = client.project
    doc = {"project": project, "name": args.name, "removed": True}
    return _emit(args, doc, lambda: print(f"removed policy {args.name} of project {project}"))


def _policies_text(pl: PolicyList) -> None:
    if not pl.policies and not pl.default_ttls:
        print(f"no retention policies or default TTLs in project {pl.project}")
        return
    for p in pl.policies:
        print(_policy_line(p))
    for t, d in pl.default_ttls.items():
        print(f"default ttl{' of ' + t if t else ''}: {format_duration(d.total_seconds())}")


@policy.command("ls", short_help="list a project's policies and default TTLs")
@project_option()
@shared_options
@handler
def policy_ls(args: Args) -> int:
    with client_for(args) as client:
        pl = client.policies()
    return _emit(args, pl.to_dict(), lambda: _policies_text(pl))


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


as_of_option = click.option("--as-of", default="", help="evaluate at this ISO 8601 time (default: now)")


@retention.command("plan", short_help="dry run: what TTLs and policies would delete, and why")
@as_of_option
@click.option("--limit", type=COUNT, default=0, help="list at most this many (default 1000, at most 5000)")
@project_option()
@shared_options
@handler
def plan(args: Args) -> int:
    from arkive_core.errors import InvalidArgument

    with usage_errors():
        as_of = as_of_datetime(args.as_of)
        if args.limit > 5000:
            raise InvalidArgument("--limit is at most 5000")
    with client_for(args) as client:
        found = client.retention_plan(as_of=as_of, limit=args.limit)
    return _emit(args, found.to_dict(), lambda: _plan_text(found))


@retention.command("apply", short_help="delete what the plan lists (soft deletes)")
@as_of_option
@project_option()
@shared_options
@handler
def apply(args: Args) -> int:
    with usage_errors():
        as_of = as_of_datetime(args.as_of)
    with client_for(args) as client:
        project = client.project
        r = client.retention_apply(as_of=as_of)

    def text() -> None:
        print(f"deleted {r.deleted} versions in project {project} (undeletable within the grace window)")
        for s in r.skipped:
            print(f"skipped v{s.version} ({s.version_id}): {s.reason}")

    return _emit(args, r.to_dict(), text)
