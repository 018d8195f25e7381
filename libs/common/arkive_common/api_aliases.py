"""Bus requests and replies of alias management after logging (ingest): move aliases onto a
version, remove them, list a collection's aliases."""

from __future__ import annotations

import msgspec

MAX_LISTED_ALIASES = 5000  # far more than any collection holds; bounds one reply


class SetAliases(msgspec.Struct, frozen=True):
    ref: str
    add: list[str] = []
    remove: list[str] = []


class ListAliases(msgspec.Struct, frozen=True):
    project: str
    name: str


class AliasView(msgspec.Struct, frozen=True):
    """`alias` of project/name points at `version_id`, version `version` of source_project/source_name
    (the collection itself, except in a collection of links, whose aliases name linked versions)."""

    alias: str
    version_id: str
    version: int
    source_project: str
    source_name: str


class AliasList(msgspec.Struct, frozen=True):
    aliases: list[AliasView]
