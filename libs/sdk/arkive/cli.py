"""The `arkive` command line: log, versions, show, get, ls, up, admin.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from arkive_common.errors import ArkiveError, InvalidArgument

from . import _cli_output as show
from ._rpc import DEFAULT_GATEWAY, DEFAULT_PROJECT

EPILOG = f"""\
environment:
  ARKIVE_GATEWAY_ADDR  gateway host:port (default {DEFAULT_GATEWAY}); --gateway overrides it
  ARKIVE_PROJECT       project for refs and commands without one (default "{DEFAULT_PROJECT}")
  ARKIVE_DEBUG=1       print tracebacks for unexpected errors

refs: [project/]name[:vN|alias|label] (":latest" when omitted), or a bare version id.
--json prints one JSON document: a version is {{project, name, version, version_name, ref,
version_id, type, manifest_digest, file_count, total_size, metadata, description, aliases, tags,
label, created_at}}; log adds created, files_uploaded, bytes_uploaded; get adds path,
files_written, bytes_written, files_skipped; versions/ls/admin wrap their list in an object.
exit codes: 0 ok, 1 error, 2 usage error, 130 interrupted.
"""


class UsageError(Exception):
    """A bad command line: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage + message; the contract is one line on stderr.
        raise UsageError(f"{message} (see '{self.prog} --help')")


@contextmanager
def _usage() -> Iterator[None]:
    """Validation errors in the user's options are usage errors (exit 2), not failures."""
    try:
        yield
    except ArkiveError as exc:
        raise UsageError(f"{exc.code.value}: {exc.message}") from None


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: an option given after the subcommand must not be reset by the subparser's default.
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document")
    common.add_argument("--gateway", metavar="HOST:PORT", default=argparse.SUPPRESS, help="gateway address")
    proj = _Parser(add_help=False)
    proj.add_argument("--project", "-p", help="project (default: $ARKIVE_PROJECT or 'default')")

    p = _Parser(
        prog="arkive",
        description="Versioned artifacts for ML pipelines.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"arkive {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)

    lg = sub.add_parser(
        "log",
        parents=[common, proj],
        help="log a folder or file as a new version (nothing is uploaded if unchanged)",
        description="Log a folder (recursively) or a single file as the next version of an artifact. "
        "Identical content is detected: no upload, no new version. Symlinked folders are not entered; "
        "symlinked files count only if they resolve inside the folder.",
    )
    lg.add_argument("path", help="folder or file to log")
    lg.add_argument("--name", "-n", help="artifact name (default: the folder's or file's base name)")
    lg.add_argument("--type", "-t", default="dataset", help="artifact type (default: dataset)")
    lg.add_argument("--alias", "-a", action="append", default=[], help="alias to point at the version (repeatable)")
    lg.add_argument("--tag", action="append", default=[], help="tag for a new version (repeatable)")
    lg.add_argument("--metadata", "-m", default="", metavar="JSON", help="metadata JSON object for a new version")
    lg.add_argument("--description", "-d", default="", help="description of a new version")
    lg.add_argument("--label", help="custom version label of a new version, unique per artifact")

    vs = sub.add_parser("versions", parents=[common, proj], help="list the versions of an artifact, newest first")
    vs.add_argument("name", metavar="[PROJECT/]NAME")

    sh = sub.add_parser("show", parents=[common, proj], help="show one version")
    sh.add_argument("ref", metavar="REF")
    sh.add_argument("--files", action="store_true", help="also list the version's files")

    gt = sub.add_parser("get", parents=[common, proj], help="download a version's files")
    gt.add_argument("ref", metavar="REF")
    gt.add_argument("--out", "-o", help="destination folder (default: ./artifacts/<name>:v<N>)")
    gt.add_argument("--path-prefix", help="only files whose path starts with this")

    ls = sub.add_parser("ls", parents=[common, proj], help="list the artifacts of a project")
    ls.add_argument("--type", "-t", help="only artifacts of this type")

    sub.add_parser("up", add_help=False, help="start the local stack (see 'arkive up --help')")

    ad = sub.add_parser("admin", parents=[common], help="operator commands")
    adsub = ad.add_subparsers(dest="admin_command", metavar="ACTION", parser_class=_Parser, required=True)
    adsub.add_parser("rebuild-projections", parents=[common], help="replay the event log into every read model")
    return p


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
        with _usage():
            from arkive_common.validation import check_name

            check_name(args.project, "project")
    handler = {
        "log": cmd_log,
        "versions": cmd_versions,
        "show": cmd_show,
        "get": cmd_get,
        "ls": cmd_ls,
        "admin": cmd_admin,
    }[args.command]
    return handler(args)


def _check_ref(ref: str, project: str | None) -> None:
    from arkive_common.refs import parse_ref

    from ._rpc import default_project

    with _usage():
        parse_ref(ref, project or default_project())


def cmd_log(args: argparse.Namespace) -> int:
    from arkive_common.validation import check_alias, check_label, check_name, check_tag, parse_metadata

    from .artifact import Artifact

    src = Path(args.path)
    with _usage():
        name = args.name or src.resolve().name
        if not args.name:
            try:
                check_name(name, "artifact name")
            except InvalidArgument:
                raise InvalidArgument(f"{name!r} is not a valid artifact name; pass --name") from None
        for a in args.alias:
            check_alias(a)
        for t in args.tag:
            check_tag(t)
        if args.label:
            check_label(args.label)
        metadata = parse_metadata(args.metadata)
        art = Artifact(name, type=args.type, metadata=metadata, description=args.description)
    art.add(src)
    if art.skipped:
        shown = ", ".join(f"{p} ({why})" for p, why in art.skipped[:3])
        more = f" and {len(art.skipped) - 3} more" if len(art.skipped) > 3 else ""
        show.warn(f"skipped {len(art.skipped)} entries: {shown}{more}")
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

    with _usage():
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
    if getattr(args, "json", False):
        doc = v.to_dict()
        if files is not None:
            doc["files"] = [{"path": f.path, "digest": f.digest, "size": f.size} for f in files]
        show.emit_json(doc)
    else:
        show.version_details(v, files)
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    _check_ref(args.ref, args.project)
    with _client(args) as client:
        v = client.get_version(args.ref)
        result = client.download(v, args.out, path_prefix=args.path_prefix)
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc.update(result.to_dict())
        show.emit_json(doc)
    else:
        show.download_result(v, result)
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        with _usage():
            from arkive_common.validation import check_type

            if args.type:
                check_type(args.type)
        cols = client.artifacts(type=args.type)
        project = client.project
    if getattr(args, "json", False):
        show.emit_json({"project": project, "type": args.type or "", "artifacts": [c.to_dict() for c in cols]})
    else:
        show.collections_table(project, cols)
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    # Only one action so far; the subparser guarantees it is "rebuild-projections".
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
