"""`arkive up`: the local stack. arkive.cli.main hands `up`'s whole command line to arkive_stack before click
parses anything; this command is what `arkive --help` and shell completion see."""

from __future__ import annotations

import click


@click.command(
    "up",
    short_help="start the local stack (see 'arkive up --help')",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def up(argv: tuple[str, ...]) -> int:
    from arkive_stack.up import main as up_main  # lazily: the stack pulls in server deps

    return int(up_main(list(argv)) or 0)
