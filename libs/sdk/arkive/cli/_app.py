"""The root `arkive` command: a click group that imports a command's module only when that command
runs (or its --help is asked for), so `arkive --help` and `arkive --version` load click and no SDK."""

from __future__ import annotations

import importlib

import click

from ._options import Group, shared_options

# command -> (module under arkive.cli, attribute, one-line help for `arkive --help`), in help order
COMMANDS: dict[str, tuple[str, str, str]] = {
    "log": ("versions", "log", "log a folder or file as a new version (nothing is uploaded if unchanged)"),
    "upsert": ("distributed", "upsert", "add a folder or file to a distributed draft (many workers, one version)"),
    "finish": ("distributed", "finish", "commit a distributed draft as one version"),
    "drafts": ("distributed", "drafts", "list open drafts of a project, or abort one ('drafts abort DRAFT_ID')"),
    "versions": ("versions", "versions", "list the versions of an artifact, newest first"),
    "show": ("versions", "show_version", "show one version"),
    "get": ("versions", "get", "download a version's files"),
    "ls": ("versions", "ls", "list the artifacts of a project"),
    "run": ("runs", "run", "runs: list them or show one"),
    "lineage": ("lineage", "lineage", "the lineage graph around a version (or run:<id>) as Mermaid, DOT or JSON"),
    "rm": ("retention", "rm", "soft-delete a version (or a whole collection with --collection)"),
    "undelete": ("retention", "undelete", "restore a deleted version (or collection) within the grace window"),
    "ttl": ("retention", "ttl", "time to live of a version, or a project's default"),
    "retention": ("policies", "retention", "retention policies; plan (dry run) and apply"),
    "gc": ("retention", "gc", "garbage-collect unreferenced blobs (every project)"),
    "storage": ("retention", "storage", "bytes stored and referenced per collection; what GC would free"),
    "meta": ("catalog", "meta", "set or unset metadata keys of a committed version (its files never change)"),
    "tag": ("catalog", "tag", "add or remove tags of a committed version"),
    "describe": ("catalog", "describe", "set the description of a committed version"),
    "search": ("search", "search", "search a project's versions by type, name, tags, alias, time, metadata, run"),
    "link": ("catalog", "link", "link a version into a registry collection without copying bytes"),
    "checkout": ("download", "checkout", "make a folder hold exactly a version (download, delete what it lacks)"),
    "verify": ("download", "verify", "compare a folder with a version (exit code 1 when they differ)"),
    "cache": ("download", "cache", "the local blob cache: 'cache info', 'cache cleanup SIZE'"),
    "register": ("refs", "register", "link objects already in arkive's bucket as a new version (no copy)"),
    "alias": ("aliases", "alias", "move aliases onto a version, remove them, or list a collection's aliases"),
    "diff": ("diff", "diff", "what changed between two versions: files (by digest) and metadata keys"),
    "links": ("registry", "links", "the links of a registry collection, newest first"),
    "unlink": ("registry", "unlink", "remove a link from a registry collection (the source version stays)"),
    "projects": ("projects", "projects", "the projects you may read, with counts"),
    "login": ("auth", "login", "store an API token in the credentials file"),
    "whoami": ("auth", "whoami", "the principal, global admin flag and roles of your token"),
    "token": ("tokens", "token", "create, list or revoke API tokens"),
    "grant": ("auth", "grant", "give PRINCIPAL the ROLE on PROJECT (project admins)"),
    "revoke-grant": ("auth", "revoke_grant", "take PRINCIPAL's role on PROJECT away"),
    "audit": (
        "auth",
        "audit",
        "who did what: events with their principal (a project's for its admins, all for global admins)",
    ),
    "status": ("status", "status", "every process: ready, version, uptime, outbox lag, consumer lag, dead letters"),
    "up": ("stack", "up", "start the local stack (see 'arkive up --help')"),
    "admin": ("admin", "admin", "operator commands"),
}

EPILOG = """\b
environment:
  ARKIVE_GATEWAY_ADDR  gateway host:port (default 127.0.0.1:50051); --gateway overrides it
  ARKIVE_PROJECT       project for refs and commands without one (default "default")
  ARKIVE_API_KEY       API token (default: the credentials file ~/.config/arkive/credentials
                       that `arkive up` and `arkive login` write; ARKIVE_CONFIG_DIR moves it)
  ARKIVE_DEBUG=1       print tracebacks for unexpected errors
  ARKIVE_CACHE_DIR     local blob and stat cache (default ~/.cache/arkive); ARKIVE_CACHE=0 disables it
  ARKIVE_CACHE_SIZE    blob cache limit, e.g. 10GiB (default), 500MB or bytes

\b
refs: [project/]name[:vN|alias|label] (":latest" when omitted), or a bare version id.
--json prints one JSON document: a version is {project, name, version, version_name, ref,
version_id, type, manifest_digest, file_count, total_size, metadata, description, aliases, tags,
label, created_at}; log adds created, files_uploaded, bytes_uploaded; finish adds created;
get adds path, files_written, bytes_written, files_skipped; upsert prints {project, name, type,
distributed_id, draft_id, file_count, files_upserted, files_uploaded, bytes_uploaded};
versions/ls/drafts/admin wrap their list in an object.
exit codes: 0 ok, 1 error, 2 usage error, 130 interrupted.

\b
distributed artifacts (many workers, one version):
  arkive upsert shard-3/ --name mnist --distributed-id run-42     # in every worker
  arkive finish mnist --distributed-id run-42 --alias best         # once, after all upserts

\b
shell completion (bash; zsh and fish alike with zsh_source, fish_source):
  eval "$(_ARKIVE_COMPLETE=bash_source arkive)"
"""


class LazyGroup(Group):
    """The root group: COMMANDS names each command's module, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(f"arkive.cli.{module}"), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The table's one-liners: listing the commands imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, _, text) in COMMANDS.items()])


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from arkive import __version__

        click.echo(f"arkive {__version__}")
        ctx.exit()


@click.group(
    "arkive",
    cls=LazyGroup,
    subcommand_metavar="COMMAND",
    epilog=EPILOG,
    context_settings={"max_content_width": 110},
)
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version, help="print the version"
)
@shared_options
def root() -> None:
    """Versioned artifacts for ML pipelines."""
