"""The SDK as the commands use it: the public Client plus the few SDK helpers that are not public yet,
in one place, each imported when first called (a command's --help loads none of them).

When the SDK's internals move, this file is the one to follow them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._options import Args, Checked

if TYPE_CHECKING:
    from arkive import Client


def client(args: Args) -> Client:
    """The blocking client for a command's --gateway and --project."""
    from arkive import Client

    return Client(
        address=args.gateway,
        project=args.project,
        # Bars only for a human at a terminal; JSON consumers get clean streams.
        progress=False if args.json else None,
    )


def default_project() -> str:
    from arkive._rpc import default_project as default

    return default()


def split_name(text: str, project: str | None) -> tuple[str, str]:
    """(project, name) of "[project/]name"."""
    from arkive.engine.local import split_name as split

    return split(text, project or default_project())


def placement(src: Path, prefix: str | None) -> str | None:
    """Where PATH lands in an artifact: a folder's files at the root (or under --as), a file by its name."""
    from arkive.engine.paths import placement as place

    return place(src, prefix)


def as_of_seconds(text: str | None) -> float | None:
    from arkive._when import as_of_seconds as parse

    return parse(text)


def as_of_datetime(text: str | None) -> datetime | None:
    from arkive._when import as_of_datetime as parse

    return parse(text)


def parse_duration(text: str) -> timedelta:
    from arkive._retention_types import parse_duration as parse

    return parse(text)


def format_duration(seconds: float) -> str:
    from arkive._retention_types import format_duration as fmt

    return fmt(seconds)


def parse_size(text: str) -> int:
    from arkive.engine.cache import parse_size as parse

    return parse(text)


def checked_aliases(aliases: list[str]) -> list[str]:
    from arkive._aliases import _checked

    return _checked(aliases, "aliases")


def render_lineage(fmt: str, graph: Any) -> str:
    from arkive._lineage_export import RENDERERS

    return RENDERERS[fmt](graph)


DURATION = Checked(parse_duration, "duration")
SIZE = Checked(parse_size, "size")
