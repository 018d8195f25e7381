"""Search over the live versions of a project: filters, a sort and keyset paging.

The statement is assembled from fixed fragments of this module; every value a client gives (type,
pattern, tags, alias, times, metadata keys and values, run id, page position) travels as a bind
parameter, and metadata keys are also held to api_catalog.METADATA_KEY_RE. Numeric metadata
predicates and sorting by a metadata key use ingest_version_metrics (catalog_model), a btree over
(project, key, number); string/boolean predicates read the version's jsonb (equality through its
GIN index)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from arkive_common import api_catalog as ac
from arkive_common.errors import InvalidArgument
from arkive_common.validation import MAX_TAGS, check_alias, check_list, check_name, check_tag, check_type

from .queries import to_view

RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
GLOB_RE = re.compile(r"^[A-Za-z0-9_.*?-]{1,128}$")
SQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "!=": "<>"}
MAX_PAGE = 1000

_SELECT = """
SELECT v.*, coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM ingest_aliases a
                      WHERE a.project = v.project AND a.name = v.name AND a.version_id = v.version_id),
                     '{}') AS aliases, {sort} AS sort_value
FROM ingest_versions v {join}
"""


class _Query:
    """Collects WHERE fragments and their parameters ($1, $2, ... in order)."""

    def __init__(self) -> None:
        self.params: list[Any] = []
        self.where: list[str] = ["v.deleted_at IS NULL"]

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


def glob_to_like(pattern: str) -> str:
    if not GLOB_RE.fullmatch(pattern):
        raise InvalidArgument(f"invalid name pattern {pattern!r}: use name characters and the wildcards * and ?")
    return pattern.replace("_", "\\_").replace("*", "%").replace("?", "_")


def parse_order(order_by: str) -> tuple[str, bool]:
    """Returns (sort key, descending): "created_at", "version" or "metadata.<key>"."""
    text = order_by or "-created_at"
    desc = text.startswith("-")
    key = text.lstrip("-+")
    if key in ("created_at", "version"):
        return key, desc
    if key.startswith("metadata."):
        return "metadata." + ac.check_metadata_key(key.removeprefix("metadata.")), desc
    raise InvalidArgument(f"invalid order_by {order_by!r}: use created_at, version or metadata.<key>, '-' to descend")


def _predicate(q: _Query, pred: ac.Predicate) -> str:
    p = ac.check_predicate(pred)
    op = SQL_OPS[p.op]
    value = p.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (
            "EXISTS (SELECT 1 FROM ingest_version_metrics m WHERE m.project = v.project AND m.version_id = v.version_id"
            f" AND m.key = {q.p(p.key)} AND m.num {op} {q.p(Decimal(repr(value)))})"
        )
    if isinstance(value, str):
        path = q.p(p.key.split("."))
        clause = (
            f"jsonb_typeof(v.metadata #> {path}::text[]) = 'string'"
            f" AND (v.metadata #>> {path}::text[]) {op} {q.p(value)}"
        )
        if p.op == "=":  # lets the planner use the GIN (jsonb_path_ops) index
            clause += f" AND v.metadata @> {q.p(msgspec.json.encode(_nest(p.key, value)).decode())}::jsonb"
        return clause
    if p.op == "=":  # true, false, null: only = and !=
        return f"v.metadata @> {q.p(msgspec.json.encode(_nest(p.key, value)).decode())}::jsonb"
    path, literal = q.p(p.key.split(".")), q.p(msgspec.json.encode(value).decode())
    return f"(v.metadata #> {path}::text[]) IS NOT NULL AND (v.metadata #> {path}::text[]) <> {literal}::jsonb"


def _nest(key: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def _fingerprint(req: ac.SearchVersions) -> str:
    same = msgspec.structs.replace(req, page_token="", page_size=0)
    return hashlib.sha256(msgspec.json.encode(same)).hexdigest()[:16]


def _token(req: ac.SearchVersions, sort_value: Any, version_id: str) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    elif isinstance(sort_value, Decimal):
        sort_value = str(sort_value)
    raw = msgspec.json.encode([_fingerprint(req), sort_value, version_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(req: ac.SearchVersions, sort: str) -> tuple[Any, str] | None:
    if not req.page_token:
        return None
    try:
        fp, value, version_id = msgspec.json.decode(base64.urlsafe_b64decode(req.page_token + "=" * 4))
        if fp != _fingerprint(req):
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


def build(req: ac.SearchVersions) -> tuple[str, list[Any], str]:
    """The statement, its parameters and the sort key (for the page token)."""
    q = _Query()
    q.where.append(f"v.project = {q.p(check_name(req.project, 'project'))}")
    if req.type:
        q.where.append(f"v.type = {q.p(check_type(req.type))}")
    if req.name_pattern:
        q.where.append(f"v.name LIKE {q.p(glob_to_like(req.name_pattern))}")
    if req.tags:
        q.where.append(f"v.tags @> {q.p(check_list(req.tags, check_tag, 'tags', MAX_TAGS))}::text[]")
    if req.alias:
        q.where.append(
            "EXISTS (SELECT 1 FROM ingest_aliases a WHERE a.project = v.project AND a.name = v.name"
            f" AND a.alias = {q.p(check_alias(req.alias))}"
            " AND a.version_id = v.version_id)"
        )
    for bound, op in ((req.created_after, ">"), (req.created_before, "<")):
        if bound is not None:
            q.where.append(f"v.created_at {op} {q.p(datetime.fromtimestamp(bound, UTC))}")
    if req.run_id:
        if not RUN_ID_RE.fullmatch(req.run_id):
            raise InvalidArgument(f"invalid run id {req.run_id!r}")
        q.where.append(f"v.run_id = {q.p(req.run_id)}")
    if len(req.metadata) > ac.MAX_FILTERS:
        raise InvalidArgument(f"at most {ac.MAX_FILTERS} metadata filters")
    q.where += [_predicate(q, pred) for pred in req.metadata]
    sort, desc = parse_order(req.order_by)
    join = ""
    if sort.startswith("metadata."):
        # Only versions with a number at that key take part in a sort by it.
        join = (
            "JOIN ingest_version_metrics s ON s.project = v.project AND s.version_id = v.version_id"
            f" AND s.key = {q.p(sort.removeprefix('metadata.'))}"
        )
        column = "s.num"
    else:
        column = f"v.{sort}"
    after = _untoken(req, sort)
    if after is not None:
        q.where.append(f"({column}, v.version_id) {'<' if desc else '>'} ({q.p(after[0])}, {q.p(after[1])})")
    direction = "DESC" if desc else "ASC"
    size = req.page_size if req.page_size > 0 else 50
    if req.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    sql = (
        _SELECT.replace("{sort}", column).replace("{join}", join)
        + " WHERE "
        + " AND ".join(q.where)
        + f" ORDER BY {column} {direction}, v.version_id {direction} LIMIT {q.p(min(size, MAX_PAGE) + 1)}"
    )
    return sql, q.params, sort


async def search(conn: asyncpg.Pool | asyncpg.Connection, req: ac.SearchVersions) -> ac.SearchPage:
    sql, params, _ = build(req)
    rows = await conn.fetch(sql, *params)
    size = min(req.page_size or 50, MAX_PAGE)
    more = len(rows) > size
    rows = rows[:size]
    token = _token(req, rows[-1]["sort_value"], rows[-1]["version_id"]) if more else ""
    return ac.SearchPage(versions=[to_view(r) for r in rows], next_page_token=token)
