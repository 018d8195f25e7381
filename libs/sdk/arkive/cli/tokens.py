"""API tokens: `arkive token create|list|revoke`."""

from __future__ import annotations

import dataclasses
import sys
import time

import click

from . import _output as show
from ._options import ArgparseChoice, Args, UsageError, group, handler, project_option, shared_options, usage_errors
from ._sdk import client as client_for
from ._sdk import parse_duration
from .auth import ROLES, when


@group("token", short_help="create, list or revoke API tokens")
def token() -> None:
    """Create, list or revoke API tokens."""


@token.command(
    "create",
    help="Print a new token for principal NAME; a new NAME becomes a service account (--user: a "
    "user). With --project, also grant --role (default writer) there: a project admin may create "
    "service accounts for the projects it administers; anything else needs a global admin.",
    short_help="a new token (shown once) for a principal, made as a service account when new",
)
@click.option("--name", required=True, help="the principal (a new one is created)")
@project_option("--project", default="", help="grant --role on this project")
@click.option("--role", type=ArgparseChoice(ROLES), help="role on --project (default writer)")
@click.option("--expires", metavar="DURATION", help="e.g. 30d, 12h (default: never)")
@click.option("--user", is_flag=True, help="a new principal is a user, not a service account")
@click.option("--global-admin", is_flag=True, help="a new principal is a global admin")
@shared_options
@handler
def token_create(args: Args) -> int:
    with usage_errors():
        expires = parse_duration(args.expires).total_seconds() if args.expires else 0
    if args.role and not args.project:
        raise UsageError("--role needs --project")
    project = args.project or ""
    with client_for(args) as client:
        new = client.create_token(
            args.name,
            project=project,
            role=(args.role or "writer") if project else "",
            expires_in=expires,
            kind="user" if args.user else "service",
            global_admin=args.global_admin,
        )
    if args.json:
        show.emit_json({"token": new.token, **dataclasses.asdict(new.info)})
    else:
        print(new.token)
        print(f"token {new.info.token_id} of {new.info.principal_id}: shown once, store it now", file=sys.stderr)
    return 0


@token.command("list", short_help="your tokens (--all: everyone's, for a global admin)")
@click.option("--all", "all", is_flag=True)
@shared_options
@handler
def token_list(args: Args) -> int:
    with client_for(args) as client:
        tokens = client.list_tokens(all=args.all)
    if args.json:
        show.emit_json({"tokens": [dataclasses.asdict(t) for t in tokens]})
        return 0
    now = time.time()
    print(f"{'ID':<14}{'PRINCIPAL':<24}{'NAME':<20}{'EXPIRES':<21}{'LAST USED':<21}STATE")
    for t in tokens:
        state = "revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active"
        print(
            f"{t.token_id:<14}{t.principal_id:<24}{t.name:<20}{when(t.expires_at):<21}{when(t.last_used_at):<21}{state}"
        )
    return 0


@token.command("revoke", short_help="revoke a token (yours; anyone's for a global admin)")
@click.argument("token_id", metavar="ID")
@shared_options
@handler
def token_revoke(args: Args) -> int:
    with client_for(args) as client:
        info = client.revoke_token(args.token_id)
    if args.json:
        show.emit_json(dataclasses.asdict(info))
    else:
        print(f"revoked token {info.token_id} of {info.principal_id}")
    return 0
