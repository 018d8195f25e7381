"""The `arkive` command line, on click: one module per command group (versions, distributed, runs,
lineage, retention, policies, catalog, search, registry, projects, download, refs, aliases, diff, auth,
tokens, status, admin, stack), loaded only for the command at hand (_app.COMMANDS).

Contract for scripts: with --json every command prints exactly one JSON document on stdout.
Errors print one line, "error: CODE: message", on stderr; exit code 1, or 2 for usage errors
(bad options or option values, caught before anything is sent), 130 when interrupted.
Shell completion: eval "$(_ARKIVE_COMPLETE=bash_source arkive)" (zsh_source, fish_source).
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ._options import UsageError

COMPLETE_VAR = "_ARKIVE_COMPLETE"


def _split_up(argv: list[str]) -> list[str] | None:
    """The arguments after `up` if this is `arkive [globals] up ...`, else None.

    `up` owns its whole command line (arkive_stack parses it), so click must not see it.
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
    """Runs one command line; returns its exit code (--help and --version exit, as argparse's did)."""
    from ._app import root

    args_list = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(COMPLETE_VAR):
        root.main(args_list, prog_name="arkive", complete_var=COMPLETE_VAR)  # prints completions, exits
    try:
        up_args = _split_up(args_list)
        if up_args is not None:
            from arkive_stack.up import main as up_main  # lazily: the stack pulls in server deps

            return int(up_main(up_args) or 0)
        with root.make_context("arkive", args_list) as ctx:
            return int(root.invoke(ctx) or 0)
    except click.exceptions.Exit as exc:  # --help, --version
        raise SystemExit(exc.exit_code) from None
    except click.UsageError as exc:
        _fail(_usage_text(exc))
        return 2
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except (KeyboardInterrupt, click.Abort):
        _fail("interrupted")
        return 130
    except OSError as exc:
        _fail(_os_error(exc))
        return 1
    except Exception as exc:
        from arkive_core.errors import ArkiveError

        if isinstance(exc, ArkiveError):
            _fail(f"{exc.code.value}: {exc.message}")
            return 1
        if os.environ.get("ARKIVE_DEBUG"):
            traceback.print_exc()
        _fail(f"INTERNAL: {type(exc).__name__}: {exc}")
        return 1


def _usage_text(exc: click.UsageError) -> str:
    """click's message in argparse's words where scripts match on them, and where to find help."""
    message = exc.format_message()
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        hint = exc.param.get_error_hint(exc.ctx) if exc.ctx else exc.param.name
        message = f"the following arguments are required: {hint.replace(chr(39), '')}"
    where = exc.ctx.command_path if exc.ctx else "arkive"
    return f"{message} (see '{where} --help')"


def _fail(message: str) -> None:
    line = " ".join(message.split())  # server details may carry newlines
    sys.stderr.write(f"error: {line}\n")
    sys.stderr.flush()


def _os_error(exc: OSError) -> str:
    code = {errno.ENOENT: "NOT_FOUND", errno.EACCES: "PERMISSION_DENIED", errno.ENOSPC: "RESOURCE_EXHAUSTED"}
    where = f": {exc.filename}" if exc.filename else ""
    return f"{code.get(exc.errno or 0, 'INTERNAL')}: {exc.strerror or exc}{where}"


def __getattr__(name: str) -> Any:
    """`arkive.cli.cmd_<command>`: a top-level command's handler, `handler(args) -> exit code` (as when all
    commands lived in one module); a handler assigned here replaces the command's (see _options.handler)."""
    from ._app import COMMANDS

    command = name.removeprefix("cmd_").replace("_", "-")
    if name.startswith("cmd_") and command in COMMANDS:
        import importlib

        module, attr, _ = COMMANDS[command]
        callback = getattr(getattr(importlib.import_module(f"arkive.cli.{module}"), attr), "callback", None)
        if callback is not None and hasattr(callback, "__wrapped__"):
            return callback.__wrapped__
    raise AttributeError(f"module 'arkive.cli' has no attribute {name!r}")
