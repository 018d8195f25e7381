"""What every command shares: the --json, --gateway and --project options, the namespace a handler
receives, usage errors (exit code 2) and the parameter types with argparse's messages.

Imports click and the standard library only: `arkive --help` loads this module and no command.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import click


class UsageError(Exception):
    """A bad command line: exit code 2."""


@contextmanager
def usage_errors() -> Iterator[None]:
    """Validation errors in the user's options are usage errors (exit 2), not failures."""
    from arkive_core.errors import ArkiveError

    try:
        yield
    except ArkiveError as exc:
        raise UsageError(f"{exc.code.value}: {exc.message}") from None


class Args(SimpleNamespace):
    """A command's parameters by name (repeatable options as lists), plus the shared --json and --gateway
    wherever they were given (before or after the command name)."""

    json: bool = False
    gateway: str | None = None
    project: str | None = None


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    # Kept on the root context: `arkive --json ls` and `arkive ls --json` mean the same.
    if value:
        ctx.find_root().meta[f"arkive.{param.name}"] = value
    return value


def shared_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--json and --gateway: on the root command and on every command and group below it."""
    f = click.option("--gateway", metavar="HOST:PORT", expose_value=False, callback=_remember, help="gateway address")(
        f
    )
    return click.option(
        "--json", "json", is_flag=True, expose_value=False, callback=_remember, help="print one JSON document"
    )(f)


def _check_project(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        from arkive_core.validation import check_name

        with usage_errors():
            check_name(value, "project")
    return value


def project_option(*names: str, default: str | None = None, help: str | None = None) -> Callable[..., Any]:
    """-p/--project, checked as a project name before anything is sent."""
    return click.option(
        *(names or ("--project", "-p")),
        default=default,
        callback=_check_project,
        help=help or "project (default: $ARKIVE_PROJECT or 'default')",
    )


def _handler_of(ctx: click.Context, f: Callable[[Args], int]) -> Callable[[Args], int]:
    # A top-level command's handler assigned on the package (`arkive.cli.cmd_ls = ...`, as tests do) wins.
    if ctx.parent is None or ctx.parent.parent is not None or ctx.command.name is None:
        return f
    package = sys.modules["arkive.cli"]  # loaded: this module is part of it (and importing it would be a cycle)
    return vars(package).get("cmd_" + ctx.command.name.replace("-", "_"), f)


def handler(f: Callable[[Args], int]) -> Callable[..., int]:
    """Makes `f(args) -> exit code` a click callback: its parameters arrive as one Args."""

    @functools.wraps(f)
    def callback(**params: Any) -> int:
        ctx = click.get_current_context()
        meta = ctx.find_root().meta
        args = Args(**{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()})
        args.json = bool(meta.get("arkive.json", False))
        args.gateway = meta.get("arkive.gateway")
        return _handler_of(ctx, f)(args)

    return callback


class Group(click.Group):
    """A group whose usage errors read as argparse's did: a missing ACTION is "required", an unknown one
    an "invalid choice" (scripts and tests match on these words)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", False)
        kwargs.setdefault("subcommand_metavar", "ACTION")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        if not ctx._protected_args and not self.invoke_without_command:
            raise click.UsageError(f"the following arguments are required: {self.subcommand_metavar}", ctx)
        return super().invoke(ctx)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing and not name.startswith("-"):
            shown = ", ".join(repr(c) for c in self.list_commands(ctx))
            raise click.UsageError(
                f"argument {self.subcommand_metavar}: invalid choice: {name!r} (choose from {shown})", ctx
            )
        return super().resolve_command(ctx, args)


def group(name: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Group]:
    """A command group (its ACTIONs below it) taking --json and --gateway too."""

    def decorate(f: Callable[..., Any]) -> Group:
        return click.group(name, cls=Group, **kwargs)(shared_options(f))

    return decorate


class ArgparseChoice(click.Choice):
    """A choice whose error says "invalid choice", as argparse's did (scripts match on it)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        shown = ", ".join(repr(c) for c in self.choices)
        self.fail(f"invalid choice: {value!r} (choose from {shown})", param, ctx)


class Checked(click.ParamType):
    """A parameter converted by `parse`; an ArkiveError or ValueError it raises is the usage error's text."""

    def __init__(self, parse: Callable[[str], Any], name: str = "text") -> None:
        self.parse = parse
        self.name = name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default that is already converted
        from arkive_core.errors import ArkiveError

        try:
            return self.parse(value)
        except ArkiveError as exc:
            self.fail(exc.message, param, ctx)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"expected a non-negative number, got {text!r}")
    return value


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected whole seconds, got {text!r}") from None
    if value < 0:
        raise ValueError(f"expected a non-negative number of seconds, got {text!r}")
    return value


COUNT = Checked(_count, "count")
SECONDS = Checked(_seconds, "seconds")


def version_options(what: str, label: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--alias, --tag, --metadata, --description (and --label) of the version a command makes."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        if label:
            f = click.option("--label", help=f"custom version label {what}, unique per artifact")(f)
        f = click.option("--description", "-d", default="", help=f"description {what}")(f)
        f = click.option("--metadata", "-m", default="", metavar="JSON", help=f"metadata JSON object {what}")(f)
        f = click.option("--tag", multiple=True, help=f"tag {what} (repeatable)")(f)
        return click.option("--alias", "-a", multiple=True, help="alias to point at the version (repeatable)")(f)

    return decorate
