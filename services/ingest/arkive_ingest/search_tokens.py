"""Page tokens of search: the last row's sort value and key, and a fingerprint of the search, so a
token used with other filters is refused instead of silently paging something else."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from arkive_core.errors import InvalidArgument

from arkive_common import api_catalog as ac


def fingerprint(req: ac.SearchVersions) -> str:
    same = msgspec.structs.replace(req, page_token="", page_size=0)
    return hashlib.sha256(msgspec.json.encode(same)).hexdigest()[:16]


def encode(req: ac.SearchVersions, sort_value: Any, version_id: str) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    elif isinstance(sort_value, Decimal):
        sort_value = str(sort_value)
    raw = msgspec.json.encode([fingerprint(req), sort_value, version_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(req: ac.SearchVersions, sort: str) -> tuple[Any, str] | None:
    if not req.page_token:
        return None
    try:
        fp, value, version_id = msgspec.json.decode(base64.urlsafe_b64decode(req.page_token + "=" * 4))
        if fp != fingerprint(req):
            raise ValueError
        if sort == "created_at":
            value = datetime.fromisoformat(value)
        elif sort == "version":
            value = int(value)
        else:
            value = Decimal(value)
        return value, str(version_id)
    except (ValueError, TypeError, ArithmeticError, msgspec.DecodeError):
        raise InvalidArgument("invalid page_token (or used with a different search)") from None
