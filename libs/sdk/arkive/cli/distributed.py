"""Distributed artifacts (many workers, one version): `arkive upsert`, `finish`, `drafts [abort]`."""

from __future__ import annotations

import sys

import click

from . import _output as show
from ._checks import add_paths, version_options, warn_skipped
from ._options import SECONDS, Args, group, handler, project_option, shared_options, usage_errors
from ._options import version_options as version_option_set
from ._sdk import client as client_for
from ._sdk import default_project

distributed_id = click.option(
    "--distributed-id",
    required=True,
    metavar="ID",
    help="names the distributed draft; the same in every worker and in the finish",
)


@click.command(
    "upsert",
    help="Add a folder (recursively) or a single file to the open distributed draft of an "
    "artifact; the first upsert opens it. Every worker upserts its part with the same --name and "
    "--distributed-id, then one `arkive finish` commits all of it as one version. Re-sending the "
    "same content is a no-op, so a failed upsert can simply be run again.",
    short_help="add a folder or file to a distributed draft (many workers, one version)",
)
@click.argument("path", nargs=-1, required=True)
@click.option("--as", "as_prefix", metavar="FOLDER", help="put the PATHs under this folder inside the artifact")
@click.option("--name", "-n", required=True, help="artifact name (the same in every worker)")
@click.option("--type", "-t", default="dataset", help="artifact type (default: dataset)")
@click.option(
    "--overwrite",
    is_flag=True,
    help="replace files another worker added at the same path with different content (else an error)",
)
@click.option(
    "--start-new", is_flag=True, help="if this distributed id was already finished, open its next draft (else an error)"
)
@distributed_id
@project_option()
@shared_options
@handler
def upsert(args: Args) -> int:
    from arkive_core.validation import check_name

    from arkive import Artifact

    with usage_errors():
        check_name(args.distributed_id, "distributed id")
        art = Artifact(args.name, type=args.type)
    add_paths(art, args.path, args.as_prefix)
    warn_skipped(art)
    with client_for(args) as client:
        r = client.upsert_artifact(
            art, distributed_id=args.distributed_id, overwrite=args.overwrite, start_new=args.start_new
        )
    if args.json:
        show.emit_json(r.to_dict())
    else:
        show.upsert_result(r)
    return 0


@click.command(
    "finish",
    help="Commit everything upserted under --distributed-id as exactly one version. A finish "
    "after that (another worker, a retry) prints the same version with created=false.",
    short_help="commit a distributed draft as one version",
)
@click.argument("name", metavar="[PROJECT/]NAME")
@version_option_set("of the version")
@distributed_id
@project_option()
@shared_options
@handler
def finish(args: Args) -> int:
    from arkive_core.errors import InvalidArgument
    from arkive_core.validation import check_name

    with usage_errors():
        check_name(args.distributed_id, "distributed id")
        if ":" in args.name:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
        project, _, name = args.name.rpartition("/")
        check_name(project or args.project or default_project(), "project")
        check_name(name, "artifact name")
        metadata = version_options(args)
    with client_for(args) as client:
        v = client.finish_artifact(
            args.name,
            distributed_id=args.distributed_id,
            metadata=metadata,
            description=args.description,
            aliases=args.alias,
            tags=args.tag,
            label=args.label,
        )
    if args.json:
        doc = v.to_dict()
        doc["created"] = v.created
        show.emit_json(doc)
    else:
        show.finish_result(v, args.distributed_id)
    return 0


@group(
    "drafts",
    invoke_without_command=True,
    short_help="list open drafts of a project, or abort one ('drafts abort DRAFT_ID')",
)
@click.option(
    "--idle",
    type=SECONDS,
    default=0,
    metavar="SECONDS",
    help="only drafts unchanged for at least this long (abandoned runs)",
)
@project_option()
@click.pass_context
def drafts(ctx: click.Context, idle: int, project: str | None) -> int:
    """List the open drafts of a project (or abort one: 'drafts abort DRAFT_ID')."""
    if ctx.invoked_subcommand is not None:
        ctx.find_root().meta["arkive.drafts_project"] = project  # `drafts -p P abort ID` asks project P
        return 0
    return handler(_list_drafts)(idle=idle, project=project)


def _list_drafts(args: Args) -> int:
    with client_for(args) as client:
        found = client.drafts(idle_seconds=args.idle)
        project = client.project
    if args.json:
        show.emit_json({"project": project, "idle_seconds": args.idle, "drafts": [d.to_dict() for d in found]})
    else:
        show.drafts_table(project, args.idle, found)
    return 0


@drafts.command("abort", short_help="abort an open draft (its files are forgotten)")
@click.argument("draft_id", metavar="DRAFT_ID")
@shared_options
@handler
def abort(args: Args) -> int:
    args.project = click.get_current_context().find_root().meta.get("arkive.drafts_project")
    with client_for(args) as client:
        client.abort_draft(args.draft_id)
    if args.json:
        show.emit_json({"draft_id": args.draft_id, "aborted": True})
    else:
        sys.stdout.write(f"aborted draft {args.draft_id}\n")
    return 0
