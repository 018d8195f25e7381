"""Authentication and access: `arkive login`, `whoami`, `grant`, `revoke-grant`, `audit` (tokens in tokens.py)."""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime

import click

from . import _output as show
from ._options import ArgparseChoice, Args, UsageError, handler, project_option, shared_options
from ._sdk import client as client_for
from ._sdk import parse_duration

ROLES = ("reader", "writer", "admin")


def when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


@click.command(
    "login",
    help="Check an API token against the gateway and store it in the credentials file "
    "($ARKIVE_CONFIG_DIR/credentials, default ~/.config/arkive/credentials, mode 0600). Without "
    "--token, it is read from stdin (prompted for on a terminal, not echoed).",
    short_help="store an API token in the credentials file",
)
@click.option("--token", help="the token (ark_<id>_<secret>); prefer stdin: arguments show in `ps`")
@shared_options
@handler
def login(args: Args) -> int:
    from arkive_core.credentials import credentials_path, write_credentials
    from arkive_core.tokens import parse_token

    from arkive import Client

    token = args.token
    if token is None:
        import getpass

        token = getpass.getpass("API token: ") if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if parse_token(token) is None:
        raise UsageError("not an arkive API token (expected ark_<id>_<secret>)")
    with Client(address=args.gateway, api_key=token) as client:
        me = client.whoami()  # refuse to store a token the gateway does not accept
    path = credentials_path()
    write_credentials(path, token)
    if args.json:
        show.emit_json({"principal_id": me.principal_id, "credentials": str(path)})
    else:
        print(f"logged in as {me.principal_id}; token stored in {path}")
    return 0


@click.command("whoami", short_help="the principal, global admin flag and roles of your token")
@shared_options
@handler
def whoami(args: Args) -> int:
    with client_for(args) as client:
        me = client.whoami()
    if args.json:
        show.emit_json(dataclasses.asdict(me))
        return 0
    print(f"{me.principal_id} ({me.kind}{', global admin' if me.global_admin else ''}), token {me.token_id}")
    for project, role in sorted(me.roles.items()):
        print(f"  {project}: {role}")
    return 0


def _granted(args: Args, changed: bool, what: str) -> int:
    if args.json:
        show.emit_json({"changed": changed, "project": args.grant_project, "principal": args.principal})
    else:
        print(what + ("" if changed else " (unchanged)"))
    return 0


@click.command("grant", short_help="give PRINCIPAL the ROLE on PROJECT (project admins)")
@click.argument("grant_project", metavar="PROJECT")
@click.argument("principal", metavar="PRINCIPAL")
@click.argument("role", metavar="ROLE", type=ArgparseChoice(ROLES))
@shared_options
@handler
def grant(args: Args) -> int:
    with client_for(args) as client:
        changed = client.grant(args.grant_project, args.principal, args.role)
    return _granted(args, changed, f"{args.principal} is {args.role} of {args.grant_project}")


@click.command("revoke-grant", short_help="take PRINCIPAL's role on PROJECT away")
@click.argument("grant_project", metavar="PROJECT")
@click.argument("principal", metavar="PRINCIPAL")
@shared_options
@handler
def revoke_grant(args: Args) -> int:
    with client_for(args) as client:
        changed = client.revoke_grant(args.grant_project, args.principal)
    return _granted(args, changed, f"{args.principal} has no role on {args.grant_project}")


def _since(text: str | None) -> float:
    from arkive_core.errors import ArkiveError

    if not text:
        return 0.0
    try:
        return time.time() - parse_duration(text).total_seconds()
    except ArkiveError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since: {text!r} is neither a duration (7d) nor an ISO time") from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


@click.command(
    "audit", short_help="who did what: events with their principal (a project's for its admins, all for global admins)"
)
@project_option("--project", "audit_project", default="", help="only this project's events")
@click.option("--since", help="a duration ago (7d, 12h) or an ISO time (2026-12-01T00:00:00+00:00)")
@click.option("--limit", type=int, default=0, help="at most this many events (default: all)")
@shared_options
@handler
def audit(args: Args) -> int:
    since = _since(args.since)
    with client_for(args) as client:
        events = client.audit(args.audit_project, since=since, limit=args.limit)
    if args.json:
        show.emit_json({"events": [dataclasses.asdict(e) for e in events]})
        return 0
    print(f"{'TIME (UTC)':<21}{'PRINCIPAL':<24}{'EVENT':<26}{'STREAM':<48}CALL")
    for e in events:
        who = e.principal_id or "(system)"
        print(f"{when(e.recorded_at):<21}{who:<24}{e.type:<26}{e.stream_id:<48}{e.correlation_id}")
    return 0
