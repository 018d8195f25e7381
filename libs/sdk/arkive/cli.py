"""The `arkive` command line: log, versions, show, get, ls, upsert, finish, drafts, up, admin (runs and
lineage in _cli_lineage.py; rm, undelete, ttl, retention, gc, storage in _cli_retention.py; meta, tag,
describe, search, link in _cli_catalog.py).

Contract for scripts: with --json every command prints exactly one JSON document on stdout.
Errors print one line, "error: CODE: message", on stderr; exit code 1, or 2 for usage errors
(bad options or option values, caught before anything is sent), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arkive_common.errors import ArkiveError, InvalidArgument

from . import _cli_output as show
from . import _cli_status
from ._cli_aliases import COMMANDS as ALIAS_COMMANDS
from ._cli_auth import COMMANDS as AUTH_COMMANDS
from ._cli_catalog import COMMANDS as CATALOG_COMMANDS
from ._cli_diff import COMMANDS as DIFF_COMMANDS
from ._cli_download import COMMANDS as DOWNLOAD_COMMANDS
from ._cli_lineage import cmd_lineage, cmd_run
from ._cli_parser import UsageError, build_parser, usage_errors
from ._cli_projects import COMMANDS as PROJECTS_COMMANDS
from ._cli_refs import COMMANDS as REFS_COMMANDS
from ._cli_refs import add_references
from ._cli_registry import COMMANDS as REGISTRY_COMMANDS
from ._cli_retention import COMMANDS as RETENTION_COMMANDS


def _split_up(argv: list[str]) -> list[str] | None:
    """The arguments after `up` if this is `arkive [globals] up ...`, else None.

    `up` owns its whole command line (arkive_stack parses it), so argparse must not see it.
    """
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--gateway":
            i += 2
        elif a == "--json" or a.startswith("--gateway="):
            i += 1
        else:
            return argv[i + 1 :] if a == "up" else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        up_args = _split_up(args_list)
        if up_args is not None:
            from arkive_stack.up import main as up_main  # lazily: the stack pulls in server deps

            return int(up_main(up_args) or 0)
        args = build_parser().parse_args(args_list)
        return _dispatch(args)
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except ArkiveError as exc:
        _fail(f"{exc.code.value}: {exc.message}")
        return 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except OSError as exc:
        _fail(_os_error(exc))
        return 1
    except Exception as exc:
        if os.environ.get("ARKIVE_DEBUG"):
            traceback.print_exc()
        _fail(f"INTERNAL: {type(exc).__name__}: {exc}")
        return 1


def _fail(message: str) -> None:
    line = " ".join(message.split())  # server details may carry newlines
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()


def _os_error(exc: OSError) -> str:
    code = {errno.ENOENT: "NOT_FOUND", errno.EACCES: "PERMISSION_DENIED", errno.ENOSPC: "RESOURCE_EXHAUSTED"}
    where = f": {exc.filename}" if exc.filename else ""
    return f"{code.get(exc.errno or 0, 'INTERNAL')}: {exc.strerror or exc}{where}"


def _client(args: argparse.Namespace) -> Any:
    from .client import Client

    json_mode = getattr(args, "json", False)
    return Client(
        address=getattr(args, "gateway", None),
        project=getattr(args, "project", None),
        # Bars only for a human at a terminal; JSON consumers get clean streams.
        progress=False if json_mode else None,
    )


def _dispatch(args: argparse.Namespace) -> int:
    if getattr(args, "project", None):
        with usage_errors():
            from arkive_common.validation import check_name

            check_name(args.project, "project")
    handler = {
        "log": cmd_log,
        "versions": cmd_versions,
        "show": cmd_show,
        "get": cmd_get,
        "ls": cmd_ls,
        "upsert": cmd_upsert,
        "finish": cmd_finish,
        "drafts": cmd_drafts,
        "admin": cmd_admin,
        "run": cmd_run,
        "lineage": cmd_lineage,
        **RETENTION_COMMANDS,
        **CATALOG_COMMANDS,
        **DOWNLOAD_COMMANDS,
        **REFS_COMMANDS,
        **ALIAS_COMMANDS,
        **DIFF_COMMANDS,
        **REGISTRY_COMMANDS,
        **PROJECTS_COMMANDS,
        **AUTH_COMMANDS,
        "status": _cli_status.cmd_status,
    }[args.command]
    return handler(args)


def _check_ref(ref: str, project: str | None) -> None:
    from arkive_common.refs import parse_ref

    from ._rpc import default_project

    with usage_errors():
        parse_ref(ref, project or default_project())


def _version_options(args: argparse.Namespace) -> dict[str, Any]:
    """Checks --alias, --tag, --label, --description; returns the parsed --metadata (call inside usage_errors)."""
    from arkive_common.validation import check_alias, check_description, check_label, check_tag, parse_metadata

    for a in args.alias:
        check_alias(a)
    for t in args.tag:
        check_tag(t)
    if args.label:
        check_label(args.label)
    check_description(args.description)
    return parse_metadata(args.metadata)


def _warn_skipped(art: Any) -> None:
    if art.skipped:
        shown = ", ".join(f"{p} ({why})" for p, why in art.skipped[:3])
        more = f" and {len(art.skipped) - 3} more" if len(art.skipped) > 3 else ""
        n = len(art.skipped)
        show.warn(f"skipped {n} {'entry' if n == 1 else 'entries'}: {shown}{more}")


def add_paths(art: Any, paths: list[str], prefix: str | None) -> None:
    """Adds each PATH (a folder's files, or a file by its name) at the artifact's root or under
    --as; two PATHs that would put files at the same artifact path are a usage error, not a
    silent overwrite."""
    from .engine.paths import placement

    for p in paths:
        before = len(art.paths)
        added = art.add(Path(p), placement(Path(p), prefix))  # a missing path: NOT_FOUND, exit 1
        if len(art.paths) - before != added:
            raise UsageError(
                f"{p}: {added - (len(art.paths) - before)} of its files land on artifact paths an earlier "
                "PATH already gave; log them separately or place them with --as"
            )


def cmd_log(args: argparse.Namespace) -> int:
    from arkive_common.validation import check_name

    from .artifact import Artifact

    if args.base or args.remove:  # an incremental version (_cli_incremental.py)
        from ._cli_incremental import cmd_log_based

        return cmd_log_based(args, _client, _version_options, _warn_skipped)
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
        metadata = _version_options(args)
        art = Artifact(name, type=args.type, metadata=metadata, description=args.description)
    add_paths(art, args.path, args.as_prefix)
    add_references(art, args)
    _warn_skipped(art)
    with _client(args) as client:
        v = client.log_artifact(art, aliases=args.alias, tags=args.tag, label=args.label)
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc.update(created=v.created, files_uploaded=v.files_uploaded, bytes_uploaded=v.bytes_uploaded)
        show.emit_json(doc)
    else:
        show.log_result(v)
        if not v.created and (args.tag or args.label or args.metadata or args.description):
            show.warn("tags, label, metadata and description only apply to new versions; left unchanged")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from arkive_common.refs import parse_ref

    from ._rpc import default_project

    with usage_errors():
        if ":" in args.name:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
        r = parse_ref(args.name, args.project or default_project())
    with _client(args) as client:
        versions = client.versions(f"{r.project}/{r.name}")
    if getattr(args, "json", False):
        show.emit_json({"project": r.project, "name": r.name, "versions": [v.to_dict() for v in versions]})
    else:
        show.versions_table(r.project, r.name, versions)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    _check_ref(args.ref, args.project)
    with _client(args) as client:
        v = client.get_version(args.ref)
        files = list(client.files(v)) if args.files else None
        try:
            ttl = client.ttl(v)
        except ArkiveError:  # retention unreachable: show the version anyway, without its TTL
            ttl = None
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc["ttl"] = ttl.to_dict() if ttl is not None else None
        if files is not None:
            doc["files"] = [{"path": f.path, "digest": f.digest, "size": f.size} for f in files]
        show.emit_json(doc)
    elif getattr(args, "preview", False):
        from ._cli_catalog import print_preview

        print_preview(v)
    else:
        show.version_details(v, files, ttl)
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    _check_ref(args.ref, args.project)
    if args.zip:
        if args.out:
            raise UsageError("use either --out or --zip")
        from ._cli_download import get_zip

        return get_zip(args)
    with usage_errors():
        from ._when import as_of_seconds

        as_of = as_of_seconds(args.as_of)
    with _client(args) as client:
        v = client.get_version(args.ref, as_of=as_of)
        result = client.download(v, args.out, path_prefix=args.path_prefix)
        if args.path_prefix and not (result.files_written or result.files_skipped):
            return _nothing_under(client, v, args.path_prefix)
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc.update(result.to_dict())
        show.emit_json(doc)
    else:
        show.download_result(v, result)
    return 0


def _nothing_under(client: Any, v: Any, prefix: str) -> int:
    """`get --prefix` that matched no file: say so, with the version's top-level entries as a hint."""
    tops = sorted({f.path.split("/", 1)[0] + ("/" if "/" in f.path else "") for f in client.files(v)})
    shown = ", ".join(tops[:20]) + (", …" if len(tops) > 20 else "")
    _fail(f"NOT_FOUND: no files under {prefix!r} in {v.ref}; its top level holds: {shown or 'nothing'}")
    return 1


def cmd_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        with usage_errors():
            from arkive_common.validation import check_type

            if args.type:
                check_type(args.type)
        cols = client.artifacts(type=args.type)
        project = client.project
        if args.type and not cols:
            types = sorted({c.type for c in client.artifacts()})
            there = f"types here: {', '.join(types)}" if types else "the project has no artifacts"
            _fail(f"NOT_FOUND: no artifacts of type {args.type!r} in project {project} ({there})")
            return 1
    if getattr(args, "json", False):
        show.emit_json({"project": project, "type": args.type or "", "artifacts": [c.to_dict() for c in cols]})
    else:
        show.collections_table(project, cols)
    return 0


def cmd_upsert(args: argparse.Namespace) -> int:
    from arkive_common.validation import check_name

    from .artifact import Artifact

    with usage_errors():
        check_name(args.distributed_id, "distributed id")
        art = Artifact(args.name, type=args.type)
    add_paths(art, args.path, args.as_prefix)
    _warn_skipped(art)
    with _client(args) as client:
        r = client.upsert_artifact(
            art, distributed_id=args.distributed_id, overwrite=args.overwrite, start_new=args.start_new
        )
    if getattr(args, "json", False):
        show.emit_json(r.to_dict())
    else:
        show.upsert_result(r)
    return 0


def cmd_finish(args: argparse.Namespace) -> int:
    from arkive_common.validation import check_name

    from ._rpc import default_project

    with usage_errors():
        check_name(args.distributed_id, "distributed id")
        if ":" in args.name:
            raise InvalidArgument(f"expected [project/]name without a version, got {args.name!r}")
        project, _, name = args.name.rpartition("/")
        check_name(project or args.project or default_project(), "project")
        check_name(name, "artifact name")
        metadata = _version_options(args)
    with _client(args) as client:
        v = client.finish_artifact(
            args.name,
            distributed_id=args.distributed_id,
            metadata=metadata,
            description=args.description,
            aliases=args.alias,
            tags=args.tag,
            label=args.label,
        )
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc["created"] = v.created
        show.emit_json(doc)
    else:
        show.finish_result(v, args.distributed_id)
    return 0


def cmd_drafts(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.drafts_command == "abort":
            client.abort_draft(args.draft_id)
            if getattr(args, "json", False):
                show.emit_json({"draft_id": args.draft_id, "aborted": True})
            else:
                sys.stdout.write(f"aborted draft {args.draft_id}\n")
            return 0
        drafts = client.drafts(idle_seconds=args.idle)
        project = client.project
    if getattr(args, "json", False):
        show.emit_json({"project": project, "idle_seconds": args.idle, "drafts": [d.to_dict() for d in drafts]})
    else:
        show.drafts_table(project, args.idle, drafts)
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    if args.admin_command in ("dead-letters", "check"):
        from ._cli_admin import cmd_check, cmd_dead_letters

        with _client(args) as client:
            return (cmd_check if args.admin_command == "check" else cmd_dead_letters)(args, client)
    if args.admin_command == "blob-stats":
        from ._blob_stats import print_table

        with _client(args) as client:
            stats = client.blob_stats()
        show.emit_json(stats.to_dict()) if getattr(args, "json", False) else print_table(stats)
        return 0
    if args.admin_command == "scrub":
        from ._scrub import print_result

        if args.sample is not None and args.sample <= 0:
            raise UsageError("--sample must be a positive number")
        with _client(args) as client:
            result = client.scrub(sample=args.sample)
        show.emit_json(result.to_dict()) if getattr(args, "json", False) else print_result(result)
        return 1 if result.corrupt else 0
    # The subparser guarantees the other action is "rebuild-projections".
    with _client(args) as client:
        rebuilds = client.rebuild_projections()
    if getattr(args, "json", False):
        show.emit_json(
            {
                "rebuilds": [{"service": s, "events_replayed": n} for s, n in rebuilds.items()],
                "total_events_replayed": sum(rebuilds.values()),
            }
        )
    else:
        show.rebuilds_table(rebuilds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
