"""Versions: `arkive log`, `versions`, `show`, `get`, `ls` (log --base in incremental.py, --reference
and register in refs.py, get --zip in download.py)."""

from __future__ import annotations

from pathlib import Path

import click

from . import _output as show
from ._checks import add_paths, check_ref, print_logged, version_options, warn_skipped
from ._options import Args, UsageError, handler, project_option, shared_options, usage_errors
from ._options import version_options as version_option_set
from ._sdk import client as client_for
from ._sdk import default_project
from .refs import add_references, reference_options


@click.command(
    "log",
    help="Log a folder (recursively) or a single file as the next version of an artifact. "
    "Identical content is detected: no upload, no new version. Symlinked folders are not entered; "
    "symlinked files count only if they resolve inside the folder.",
    short_help="log a folder or file as a new version (nothing is uploaded if unchanged)",
)
@click.argument("path", nargs=-1)
@click.option(
    "--as",
    "as_prefix",
    metavar="FOLDER",
    help="put the PATHs under this folder inside the artifact (data/train): a folder's files, a file by its name",
)
@click.option("--name", "-n", help="artifact name (default: the folder's or file's base name)")
@click.option("--type", "-t", default="dataset", help="artifact type (default: dataset)")
@version_option_set("for a new version")
@click.option(
    "--base",
    metavar="REF",
    help="start from this version of the artifact: its files are kept (not re-uploaded), PATHs added or "
    "replaced, --remove'd ones left out; --metadata keys update the base's",
)
@click.option("--remove", multiple=True, metavar="P", help="with --base: leave out this file or folder")
@reference_options
@project_option()
@shared_options
@handler
def log(args: Args) -> int:
    from arkive_core.errors import InvalidArgument
    from arkive_core.validation import check_name

    from arkive import Artifact

    if args.base or args.remove:  # an incremental version
        from .incremental import log_based

        return log_based(args)
    with usage_errors():
        if not args.path and not (args.reference and args.name):
            raise InvalidArgument("the path to log is required (or --name with --reference URIs)")
        if len(args.path) > 1 and not args.name:
            raise InvalidArgument("several paths need --name (the artifact's name)")
    src = Path(args.path[0] if args.path else ".")
    with usage_errors():
        name = args.name or src.resolve().name
        if not args.name:
            try:
                check_name(name, "artifact name")
            except InvalidArgument:
                raise InvalidArgument(f"{name!r} is not a valid artifact name; pass --name") from None
        metadata = version_options(args)
        art = Artifact(name, type=args.type, metadata=metadata, description=args.description)
    add_paths(art, args.path, args.as_prefix)
    add_references(art, args)
    warn_skipped(art)
    with client_for(args) as client:
        v = client.log_artifact(art, aliases=args.alias, tags=args.tag, label=args.label)
    print_logged(args, v)
    return 0


@click.command("versions", short_help="list the versions of an artifact, newest first")
@click.argument("name", metavar="[PROJECT/]NAME")
@project_option()
@shared_options
@handler
def versions(args: Args) -> int:
    from arkive_core.errors import InvalidArgument
    from arkive_core.refs import parse_ref

    with usage_errors():
        if ":" in args.name:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
        r = parse_ref(args.name, args.project or default_project())
    with client_for(args) as client:
        found = client.versions(f"{r.project}/{r.name}")
    if args.json:
        show.emit_json({"project": r.project, "name": r.name, "versions": [v.to_dict() for v in found]})
    else:
        show.versions_table(r.project, r.name, found)
    return 0


@click.command("show", short_help="show one version")
@click.argument("ref", metavar="REF")
@click.option("--files", is_flag=True, help="also list the version's files")
@click.option("--preview", is_flag=True, help="print a dataset's preview rows as a table")
@project_option()
@shared_options
@handler
def show_version(args: Args) -> int:
    from arkive_core.errors import ArkiveError

    check_ref(args.ref, args.project)
    with client_for(args) as client:
        v = client.get_version(args.ref)
        files = list(client.files(v)) if args.files else None
        try:
            ttl = client.ttl(v)
        except ArkiveError:  # retention unreachable: show the version anyway, without its TTL
            ttl = None
    if args.json:
        doc = v.to_dict()
        doc["ttl"] = ttl.to_dict() if ttl is not None else None
        if files is not None:
            doc["files"] = [{"path": f.path, "digest": f.digest, "size": f.size} for f in files]
        show.emit_json(doc)
    elif args.preview:
        from .catalog import print_preview

        print_preview(v)
    else:
        show.version_details(v, files, ttl)
    return 0


@click.command("get", short_help="download a version's files")
@click.argument("ref", metavar="REF")
@click.option("--out", "-o", help="destination folder (default: ./artifacts/<name>:v<N>)")
@click.option(
    "--path-prefix", "--prefix", "path_prefix", metavar="FOLDER", help="only the files in this folder of the version"
)
@click.option("--zip", "zip", metavar="OUT.ZIP", help="write the files into this zip file instead of a folder")
@click.option("--as-of", metavar="WHEN", help="the version REF named at that time (2d, 12h, yesterday, ISO 8601)")
@project_option()
@shared_options
@handler
def get(args: Args) -> int:
    from ._sdk import as_of_seconds

    check_ref(args.ref, args.project)
    if args.zip:
        if args.out:
            raise UsageError("use either --out or --zip")
        from .download import get_zip

        return get_zip(args)
    with usage_errors():
        as_of = as_of_seconds(args.as_of)
    with client_for(args) as client:
        v = client.get_version(args.ref, as_of=as_of)
        result = client.download(v, args.out, path_prefix=args.path_prefix)
        if args.path_prefix and not (result.files_written or result.files_skipped):
            return _nothing_under(client, v, args.path_prefix)
    if args.json:
        doc = v.to_dict()
        doc.update(result.to_dict())
        show.emit_json(doc)
    else:
        show.download_result(v, result)
    return 0


def _nothing_under(client: object, v: object, prefix: str) -> int:
    """`get --prefix` that matched no file: say so, with the version's top-level entries as a hint."""
    from arkive_core.errors import NotFound

    files = client.files(v)  # type: ignore[attr-defined]
    tops = sorted({f.path.split("/", 1)[0] + ("/" if "/" in f.path else "") for f in files})
    shown = ", ".join(tops[:20]) + (", …" if len(tops) > 20 else "")
    raise NotFound(f"no files under {prefix!r} in {v.ref}; its top level holds: {shown or 'nothing'}")  # type: ignore[attr-defined]


@click.command("ls", short_help="list the artifacts of a project")
@click.option("--type", "-t", help="only artifacts of this type")
@project_option()
@shared_options
@handler
def ls(args: Args) -> int:
    from arkive_core.errors import NotFound
    from arkive_core.validation import check_type

    with usage_errors():
        if args.type:
            check_type(args.type)
    with client_for(args) as client:
        cols = client.artifacts(type=args.type)
        project = client.project
        if args.type and not cols:
            types = sorted({c.type for c in client.artifacts()})
            there = f"types here: {', '.join(types)}" if types else "the project has no artifacts"
            raise NotFound(f"no artifacts of type {args.type!r} in project {project} ({there})")
    if args.json:
        show.emit_json({"project": project, "type": args.type or "", "artifacts": [c.to_dict() for c in cols]})
    else:
        show.collections_table(project, cols)
    return 0
