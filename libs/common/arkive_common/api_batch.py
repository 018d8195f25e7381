"""Batched queries: one bus call for many items where a caller would otherwise call once per item."""

from __future__ import annotations

import msgspec

from .api import VersionView

MAX_REFS_PER_CALL = 10_000
"""Refs one GetVersions may name: each is a database lookup in one request (bounds its work)."""


class GetVersions(msgspec.Struct, frozen=True):
    refs: list[str]


class MissingVersion(msgspec.Struct, frozen=True):
    ref: str
    message: str  # what get_version's NOT_FOUND would have said


class VersionsFound(msgspec.Struct, frozen=True):
    versions: list[VersionView]  # of the refs found, in the order asked
    missing: list[MissingVersion] = []  # in the order asked
