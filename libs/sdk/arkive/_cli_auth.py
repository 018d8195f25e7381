"""CLI of authentication: `arkive login`, `whoami`, `token create|list|revoke`, `grant`, `revoke-grant`,
`audit`."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
import time
from datetime import UTC, datetime
from typing import Any

from arkive_common.errors import ArkiveError

from . import _cli_output as show
from ._cli_parser import UsageError, usage_errors


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    lg = sub.add_parser(
        "login",
        parents=[common],
        help="store an API token in the credentials file",
        description="Check an API token against the gateway and store it in the credentials file "
        "($ARKIVE_CONFIG_DIR/credentials, default ~/.config/arkive/credentials, mode 0600). Without "
        "--token, it is read from stdin (prompted for on a terminal, not echoed).",
    )
    lg.add_argument("--token", help="the token (ark_<id>_<secret>); prefer stdin: arguments show in `ps`")
    sub.add_parser("whoami", parents=[common], help="the principal, global admin flag and roles of your token")
    tk = sub.add_parser("token", parents=[common], help="create, list or revoke API tokens")
    tsub = tk.add_subparsers(dest="token_command", metavar="ACTION", parser_class=parser_class, required=True)
    cr = tsub.add_parser(
        "create",
        parents=[common],
        help="a new token (shown once) for a principal, made as a service account when new",
        description="Print a new token for principal NAME; a new NAME becomes a service account (--user: a "
        "user). With --project, also grant --role (default writer) there: a project admin may create "
        "service accounts for the projects it administers; anything else needs a global admin.",
    )
    cr.add_argument("--name", required=True, help="the principal (a new one is created)")
    cr.add_argument("--project", default="", help="grant --role on this project")
    cr.add_argument("--role", choices=["reader", "writer", "admin"], help="role on --project (default writer)")
    cr.add_argument("--expires", metavar="DURATION", help="e.g. 30d, 12h (default: never)")
    cr.add_argument("--user", action="store_true", help="a new principal is a user, not a service account")
    cr.add_argument("--global-admin", action="store_true", help="a new principal is a global admin")
    ls = tsub.add_parser("list", parents=[common], help="your tokens (--all: everyone's, for a global admin)")
    ls.add_argument("--all", action="store_true")
    rv = tsub.add_parser("revoke", parents=[common], help="revoke a token (yours; anyone's for a global admin)")
    rv.add_argument("token_id", metavar="ID")
    gr = sub.add_parser("grant", parents=[common], help="give PRINCIPAL the ROLE on PROJECT (project admins)")
    gr.add_argument("grant_project", metavar="PROJECT")
    gr.add_argument("principal", metavar="PRINCIPAL")
    gr.add_argument("role", choices=["reader", "writer", "admin"], metavar="ROLE")
    rg = sub.add_parser("revoke-grant", parents=[common], help="take PRINCIPAL's role on PROJECT away")
    rg.add_argument("grant_project", metavar="PROJECT")
    rg.add_argument("principal", metavar="PRINCIPAL")
    au = sub.add_parser(
        "audit",
        parents=[common],
        help="who did what: events with their principal (a project's for its admins, all for global admins)",
    )
    au.add_argument("--project", dest="audit_project", default="", help="only this project's events")
    au.add_argument("--since", help="a duration ago (7d, 12h) or an ISO time (2026-12-01T00:00:00+00:00)")
    au.add_argument("--limit", type=int, default=0, help="at most this many events (default: all)")


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def cmd_login(args: argparse.Namespace) -> int:
    from arkive_common.credentials import credentials_path, write_credentials
    from arkive_common.tokens import parse_token

    from .client import Client

    token = args.token
    if token is None:
        token = getpass.getpass("API token: ") if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if parse_token(token) is None:
        raise UsageError("not an arkive API token (expected ark_<id>_<secret>)")
    with Client(address=getattr(args, "gateway", None), api_key=token) as client:
        me = client.whoami()  # refuse to store a token the gateway does not accept
    path = credentials_path()
    write_credentials(path, token)
    if getattr(args, "json", False):
        show.emit_json({"principal_id": me.principal_id, "credentials": str(path)})
    else:
        print(f"logged in as {me.principal_id}; token stored in {path}")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    from .cli import _client

    with _client(args) as client:
        me = client.whoami()
    if getattr(args, "json", False):
        show.emit_json(dataclasses.asdict(me))
        return 0
    print(f"{me.principal_id} ({me.kind}{', global admin' if me.global_admin else ''}), token {me.token_id}")
    for project, role in sorted(me.roles.items()):
        print(f"  {project}: {role}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from .cli import _client
    from .retention import parse_duration

    json_mode = getattr(args, "json", False)
    with _client(args) as client:
        if args.token_command == "create":
            with usage_errors():
                expires = parse_duration(args.expires).total_seconds() if args.expires else 0
            if args.role and not args.project:
                raise UsageError("--role needs --project")
            new = client.create_token(
                args.name,
                project=args.project,
                role=(args.role or "writer") if args.project else "",
                expires_in=expires,
                kind="user" if args.user else "service",
                global_admin=args.global_admin,
            )
            if json_mode:
                show.emit_json({"token": new.token, **dataclasses.asdict(new.info)})
            else:
                print(new.token)
                print(
                    f"token {new.info.token_id} of {new.info.principal_id}: shown once, store it now", file=sys.stderr
                )
            return 0
        if args.token_command == "list":
            tokens = client.list_tokens(all=args.all)
            if json_mode:
                show.emit_json({"tokens": [dataclasses.asdict(t) for t in tokens]})
                return 0
            now = time.time()
            print(f"{'ID':<14}{'PRINCIPAL':<24}{'NAME':<20}{'EXPIRES':<21}{'LAST USED':<21}STATE")
            for t in tokens:
                state = "revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active"
                print(
                    f"{t.token_id:<14}{t.principal_id:<24}{t.name:<20}{_when(t.expires_at):<21}"
                    f"{_when(t.last_used_at):<21}{state}"
                )
            return 0
        info = client.revoke_token(args.token_id)
        if json_mode:
            show.emit_json(dataclasses.asdict(info))
        else:
            print(f"revoked token {info.token_id} of {info.principal_id}")
        return 0


def cmd_grant(args: argparse.Namespace) -> int:
    from .cli import _client

    with _client(args) as client:
        if args.command == "grant":
            changed = client.grant(args.grant_project, args.principal, args.role)
            what = f"{args.principal} is {args.role} of {args.grant_project}"
        else:
            changed = client.revoke_grant(args.grant_project, args.principal)
            what = f"{args.principal} has no role on {args.grant_project}"
    if getattr(args, "json", False):
        show.emit_json({"changed": changed, "project": args.grant_project, "principal": args.principal})
    else:
        print(what + ("" if changed else " (unchanged)"))
    return 0


def _since(text: str | None) -> float:
    from .retention import parse_duration

    if not text:
        return 0.0
    try:
        return time.time() - parse_duration(text).total_seconds()
    except ArkiveError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since: {text!r} is neither a duration (7d) nor an ISO time") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def cmd_audit(args: argparse.Namespace) -> int:
    from .cli import _client

    since = _since(args.since)
    with _client(args) as client:
        events = client.audit(args.audit_project, since=since, limit=args.limit)
    if getattr(args, "json", False):
        show.emit_json({"events": [dataclasses.asdict(e) for e in events]})
        return 0
    print(f"{'TIME (UTC)':<21}{'PRINCIPAL':<24}{'EVENT':<26}{'STREAM':<48}CALL")
    for e in events:
        who = e.principal_id or "(system)"
        print(f"{_when(e.recorded_at):<21}{who:<24}{e.type:<26}{e.stream_id:<48}{e.correlation_id}")
    return 0


COMMANDS = {
    "login": cmd_login,
    "whoami": cmd_whoami,
    "token": cmd_token,
    "grant": cmd_grant,
    "revoke-grant": cmd_grant,
    "audit": cmd_audit,
}
