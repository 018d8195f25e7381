"""The `arkive` argument parser (kept apart from the commands so it stays readable)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from arkive_common.errors import ArkiveError

from ._defaults import DEFAULT_GATEWAY, DEFAULT_PROJECT

EPILOG = f"""\
environment:
  ARKIVE_GATEWAY_ADDR  gateway host:port (default {DEFAULT_GATEWAY}); --gateway overrides it
  ARKIVE_PROJECT       project for refs and commands without one (default "{DEFAULT_PROJECT}")
  ARKIVE_API_KEY       API token (default: the credentials file ~/.config/arkive/credentials
                       that `arkive up` and `arkive login` write; ARKIVE_CONFIG_DIR moves it)
  ARKIVE_DEBUG=1       print tracebacks for unexpected errors
  ARKIVE_CACHE_DIR     local blob and stat cache (default ~/.cache/arkive); ARKIVE_CACHE=0 disables it
  ARKIVE_CACHE_SIZE    blob cache limit, e.g. 10GiB (default), 500MB or bytes

refs: [project/]name[:vN|alias|label] (":latest" when omitted), or a bare version id.
--json prints one JSON document: a version is {{project, name, version, version_name, ref,
version_id, type, manifest_digest, file_count, total_size, metadata, description, aliases, tags,
label, created_at}}; log adds created, files_uploaded, bytes_uploaded; finish adds created;
get adds path, files_written, bytes_written, files_skipped; upsert prints {{project, name, type,
distributed_id, draft_id, file_count, files_upserted, files_uploaded, bytes_uploaded}};
versions/ls/drafts/admin wrap their list in an object.
exit codes: 0 ok, 1 error, 2 usage error, 130 interrupted.

distributed artifacts (many workers, one version):
  arkive upsert shard-3/ --name mnist --distributed-id run-42     # in every worker
  arkive finish mnist --distributed-id run-42 --alias best         # once, after all upserts
"""


class UsageError(Exception):
    """A bad command line: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage + message; the contract is one line on stderr.
        raise UsageError(f"{message} (see '{self.prog} --help')")


@contextmanager
def usage_errors() -> Iterator[None]:
    """Validation errors in the user's options are usage errors (exit 2), not failures."""
    try:
        yield
    except ArkiveError as exc:
        raise UsageError(f"{exc.code.value}: {exc.message}") from None


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number of seconds, got {text!r}")
    return value


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
    lg.add_argument("path", nargs="*", help="folders or files to log (optional with --reference)")
    lg.add_argument(
        "--as",
        dest="as_prefix",
        metavar="FOLDER",
        help="put the PATHs under this folder inside the artifact (data/train): a folder's files, a file by its name",
    )
    lg.add_argument("--name", "-n", help="artifact name (default: the folder's or file's base name)")
    lg.add_argument("--type", "-t", default="dataset", help="artifact type (default: dataset)")
    lg.add_argument("--alias", "-a", action="append", default=[], help="alias to point at the version (repeatable)")
    lg.add_argument("--tag", action="append", default=[], help="tag for a new version (repeatable)")
    lg.add_argument("--metadata", "-m", default="", metavar="JSON", help="metadata JSON object for a new version")
    lg.add_argument("--description", "-d", default="", help="description of a new version")
    lg.add_argument("--label", help="custom version label of a new version, unique per artifact")
    lg.add_argument(
        "--base",
        metavar="REF",
        help="start from this version of the artifact: its files are kept (not re-uploaded), PATHs added or "
        "replaced, --remove'd ones left out; --metadata keys update the base's",
    )
    lg.add_argument(
        "--remove", action="append", default=[], metavar="P", help="with --base: leave out this file or folder"
    )
    from ._cli_refs import add_log_options
    from ._cli_refs import add_parsers as add_refs_parsers

    add_log_options(lg)

    dist_id = _Parser(add_help=False)
    dist_id.add_argument(
        "--distributed-id",
        required=True,
        metavar="ID",
        help="names the distributed draft; the same in every worker and in the finish",
    )
    up = sub.add_parser(
        "upsert",
        parents=[common, proj, dist_id],
        help="add a folder or file to a distributed draft (many workers, one version)",
        description="Add a folder (recursively) or a single file to the open distributed draft of an "
        "artifact; the first upsert opens it. Every worker upserts its part with the same --name and "
        "--distributed-id, then one `arkive finish` commits all of it as one version. Re-sending the "
        "same content is a no-op, so a failed upsert can simply be run again.",
    )
    up.add_argument("path", nargs="+", help="folders or files to add")
    up.add_argument(
        "--as", dest="as_prefix", metavar="FOLDER", help="put the PATHs under this folder inside the artifact"
    )
    up.add_argument("--name", "-n", required=True, help="artifact name (the same in every worker)")
    up.add_argument("--type", "-t", default="dataset", help="artifact type (default: dataset)")
    up.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files another worker added at the same path with different content (else an error)",
    )
    up.add_argument(
        "--start-new",
        action="store_true",
        help="if this distributed id was already finished, open its next draft (else an error)",
    )

    fin = sub.add_parser(
        "finish",
        parents=[common, proj, dist_id],
        help="commit a distributed draft as one version",
        description="Commit everything upserted under --distributed-id as exactly one version. A finish "
        "after that (another worker, a retry) prints the same version with created=false.",
    )
    fin.add_argument("name", metavar="[PROJECT/]NAME")
    fin.add_argument("--alias", "-a", action="append", default=[], help="alias to point at the version (repeatable)")
    fin.add_argument("--tag", action="append", default=[], help="tag of the version (repeatable)")
    fin.add_argument("--metadata", "-m", default="", metavar="JSON", help="metadata JSON object of the version")
    fin.add_argument("--description", "-d", default="", help="description of the version")
    fin.add_argument("--label", help="custom version label, unique per artifact")

    dr = sub.add_parser(
        "drafts",
        parents=[common, proj],
        help="list open drafts of a project, or abort one ('drafts abort DRAFT_ID')",
    )
    dr.add_argument(
        "--idle",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="only drafts unchanged for at least this long (abandoned runs)",
    )
    drsub = dr.add_subparsers(dest="drafts_command", metavar="ACTION", parser_class=_Parser)
    ab = drsub.add_parser("abort", parents=[common], help="abort an open draft (its files are forgotten)")
    ab.add_argument("draft_id", metavar="DRAFT_ID")

    vs = sub.add_parser("versions", parents=[common, proj], help="list the versions of an artifact, newest first")
    vs.add_argument("name", metavar="[PROJECT/]NAME")

    sh = sub.add_parser("show", parents=[common, proj], help="show one version")
    sh.add_argument("ref", metavar="REF")
    sh.add_argument("--files", action="store_true", help="also list the version's files")
    sh.add_argument("--preview", action="store_true", help="print a dataset's preview rows as a table")

    gt = sub.add_parser("get", parents=[common, proj], help="download a version's files")
    gt.add_argument("ref", metavar="REF")
    gt.add_argument("--out", "-o", help="destination folder (default: ./artifacts/<name>:v<N>)")
    gt.add_argument("--path-prefix", "--prefix", metavar="FOLDER", help="only the files in this folder of the version")
    gt.add_argument("--zip", metavar="OUT.ZIP", help="write the files into this zip file instead of a folder")
    gt.add_argument("--as-of", metavar="WHEN", help="the version REF named at that time (2d, 12h, yesterday, ISO 8601)")

    ls = sub.add_parser("ls", parents=[common, proj], help="list the artifacts of a project")
    ls.add_argument("--type", "-t", help="only artifacts of this type")

    from ._cli_lineage import add_parsers as add_lineage_parsers

    add_lineage_parsers(sub, common, proj, _Parser)
    from ._cli_retention import add_parsers as add_retention_parsers

    add_retention_parsers(sub, common, proj, _Parser)
    from ._cli_catalog import add_parsers as add_catalog_parsers

    add_catalog_parsers(sub, common, proj, _Parser)
    from ._cli_download import add_parsers as add_download_parsers

    add_download_parsers(sub, common, proj, _Parser)
    add_refs_parsers(sub, common, proj, _Parser)
    from ._cli_aliases import add_parsers as add_alias_parsers

    add_alias_parsers(sub, common, proj, _Parser)
    from ._cli_diff import add_parsers as add_diff_parsers

    add_diff_parsers(sub, common, proj, _Parser)
    from ._cli_registry import add_parsers as add_registry_parsers

    add_registry_parsers(sub, common, proj, _Parser)
    from ._cli_projects import add_parsers as add_projects_parsers

    add_projects_parsers(sub, common, proj, _Parser)
    from ._cli_auth import add_parsers as add_auth_parsers

    add_auth_parsers(sub, common, proj, _Parser)

    from ._cli_status import add_parsers as add_status_parsers

    add_status_parsers(sub, common)
    sub.add_parser("up", add_help=False, help="start the local stack (see 'arkive up --help')")

    ad = sub.add_parser("admin", parents=[common], help="operator commands")
    adsub = ad.add_subparsers(dest="admin_command", metavar="ACTION", parser_class=_Parser, required=True)
    adsub.add_parser("rebuild-projections", parents=[common], help="replay the event log into every read model")
    adsub.add_parser("blob-stats", parents=[common], help="cluster-wide byte counters of the blob storage")
    sc = adsub.add_parser(
        "scrub", parents=[common], help="re-read stored blobs, verify sha256, drop corrupt ones from the index"
    )
    sc.add_argument("--sample", type=int, metavar="N", help="verify N objects picked at random instead of all")
    from ._cli_admin import add_parsers as add_admin_parsers

    add_admin_parsers(adsub, common)
    return p
