"""Search over the live versions of a project (or of the caller's readable projects, all_projects;
with a registry's links as its versions, registry_model): filters, a sort and keyset paging.

The statement is assembled from fixed fragments of this module; every value a client gives (type,
pattern, tags, alias, times, metadata keys and values, run id, page position) travels as a bind
parameter, and metadata keys are also held to api_catalog.METADATA_KEY_RE. Numeric metadata
predicates and sorting by a metadata key use ingest_version_metrics (catalog_model), a btree over
(project, key, number); string/boolean predicates read the version's jsonb. Selective predicates
are probed on their index first (see `candidates`), so the plan never depends on a guess."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from arkive_core.errors import InvalidArgument
from arkive_core.validation import MAX_TAGS, check_alias, check_list, check_name, check_tag, check_type

from arkive_common import api_catalog as ac

from . import registry_model, search_tokens
from .queries import to_view

RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
GLOB_RE = re.compile(r"^[A-Za-z0-9_.*?-]{1,128}$")
SQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "!=": "<>"}
MAX_PAGE = 1000
CANDIDATES = 2000
MAX_WALK = 100_000  # versions one call may read in sort order (see _walk)

_SELECT = """
SELECT v.*, coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM ingest_aliases a
                      WHERE a.project = v.project AND a.name = v.name AND a.version_id = v.version_id),
                     '{}') AS aliases, {sort} AS sort_value, {key} AS row_key
FROM {rows} v {join}
"""


class _Query:
    """Collects WHERE fragments and their parameters ($1, $2, ... in order)."""

    def __init__(self) -> None:
        self.params: list[Any] = []
        self.where: list[str] = ["v.deleted_at IS NULL"]

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


def projects_of(req: ac.SearchVersions) -> list[str] | None:
    """The projects searched: `project`, or with all_projects the given ones (None: every project)."""
    if not req.all_projects:
        return [check_name(req.project, "project")]
    if req.project:
        raise InvalidArgument("name a project or search all projects, not both")
    return None if req.projects is None else [check_name(p, "project") for p in req.projects]


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
    if _is_number(value):
        return (
            "EXISTS (SELECT 1 FROM ingest_version_metrics m WHERE m.project = {data_project}"
            " AND m.version_id = v.version_id"
            f" AND m.key = {q.p(p.key)} AND m.num {op} {q.p(Decimal(repr(value)))})"
        )
    path = q.p(p.key.split("."))
    if isinstance(value, str):
        return (
            f"jsonb_typeof(v.metadata #> {path}::text[]) = 'string'"
            f" AND (v.metadata #>> {path}::text[]) {op} {q.p(value)}"
        )
    literal = q.p(msgspec.json.encode(value).decode())  # true, false, null: only = and !=
    return f"(v.metadata #> {path}::text[]) IS NOT NULL AND (v.metadata #> {path}::text[]) {op} {literal}::jsonb"


async def candidates(conn: asyncpg.Pool | asyncpg.Connection, req: ac.SearchVersions) -> list[str] | None:
    """The ids a selective metadata predicate allows, or None when none is selective.

    The planner cannot know how many versions "accuracy > 0.9995" leaves (the statistics of
    ingest_version_metrics.num mix every key), so it may walk a million versions newest first
    testing each. We ask the indexes instead, each probe stopping after CANDIDATES + 1 ids: when
    one predicate allows at most CANDIDATES versions, the search looks up just those (the
    predicates still filter them); otherwise matches are common and walking the sort order finds
    a page quickly.
    """
    best: set[str] | None = None
    sort, _ = parse_order(req.order_by)
    if req.all_projects:  # the probes are per project; across projects the sort order is walked
        return None
    for pred in req.metadata:
        p = ac.check_predicate(pred)
        if p.op == "!=" or sort == f"metadata.{p.key}":  # the sort's own index walk serves that one
            continue
        if _is_number(p.value):
            sql = (
                "SELECT version_id FROM ingest_version_metrics WHERE project = $1 AND key = $2"
                f" AND num {SQL_OPS[p.op]} $3 LIMIT $4"
            )
            args: tuple[Any, ...] = (req.project, p.key, Decimal(repr(p.value)))
        elif p.op == "=":  # containment: the GIN (jsonb_path_ops) index
            sql = "SELECT version_id FROM ingest_versions WHERE metadata @> $2::jsonb AND project = $1 LIMIT $3"
            args = (req.project, msgspec.json.encode(_nest(p.key, p.value)).decode())
        else:
            continue
        # Count first (an index-only scan that stops early), fetch the ids only when few.
        if await conn.fetchval(f"SELECT count(*) FROM ({sql}) x", *args, CANDIDATES + 1) <= CANDIDATES:
            ids = {r["version_id"] for r in await conn.fetch(sql, *args, CANDIDATES + 1)}
            best = ids if best is None else best & ids
    return None if best is None else sorted(best)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _nest(key: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def build(
    req: ac.SearchVersions,
    ids: list[str] | None = None,
    *,
    walk: int = 0,
    after: tuple[Any, str] | None = None,
    links: bool = False,
) -> tuple[str, list[Any]]:
    """The statement and its parameters. `ids` limits the search to those versions (candidates);
    `walk` > 0 reads that many versions in sort order after `after` (default: the page token's
    position) and returns each with its matching row or NULLs (see search). `links`: the project
    holds collections of links, whose links are searched as its versions (registry_model)."""
    sql, params = _build(req, ids, walk=walk, after=after)
    if links:  # metrics of a link are its source's, indexed under the source's project
        sql = sql.replace("{rows}", registry_model.SEARCH_ROWS).replace("{data_project}", "v.data_project")
        return sql.replace("{key}", "v.row_key"), params
    sql = sql.replace("{rows}", "ingest_versions").replace("{data_project}", "v.project")
    return sql.replace("{key}", "v.version_id"), params


def _build(
    req: ac.SearchVersions, ids: list[str] | None, *, walk: int, after: tuple[Any, str] | None
) -> tuple[str, list[Any]]:
    q = _Query()
    scope = projects_of(req)
    if scope is not None:
        q.where.append(f"v.project = ANY({q.p(scope)}::text[])" if req.all_projects else f"v.project = {q.p(scope[0])}")
    if ids is not None:
        q.where.append(f"v.version_id = ANY({q.p(ids)}::text[])")
    if req.type:
        q.where.append(f"v.type = {q.p(check_type(req.type))}")
    if req.name_pattern:
        q.where.append(f"v.name LIKE {q.p(glob_to_like(req.name_pattern))}")
    if req.tags:
        q.where.append(f"v.tags @> {q.p(check_list(req.tags, check_tag, 'tags', MAX_TAGS))}::text[]")
    if req.alias:
        q.where.append(
            "EXISTS (SELECT 1 FROM ingest_aliases a WHERE a.project = v.project AND a.name = v.name"
            f" AND a.alias = {q.p(check_alias(req.alias))} AND a.version_id = v.version_id)"
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
    predicates = [_predicate(q, pred) for pred in req.metadata]
    sort, desc = parse_order(req.order_by)
    join = ""
    if sort.startswith("metadata."):
        # Only versions with a number at that key take part in a sort by it.
        join = (
            "JOIN ingest_version_metrics s ON s.project = {data_project} AND s.version_id = v.version_id"
            f" AND s.key = {q.p(sort.removeprefix('metadata.'))}"
        )
        column = "s.num"
        for p in req.metadata:  # a range on the sort key itself bounds the index walk
            if p.key == sort.removeprefix("metadata.") and p.op != "!=" and _is_number(p.value):
                q.where.append(f"s.num {SQL_OPS[p.op]} {q.p(Decimal(repr(p.value)))}")
    else:
        column = f"v.{sort}"
    position = after if after is not None else search_tokens.decode(req, sort)
    if position is not None:
        q.where.append(f"({column}, {{key}}) {'<' if desc else '>'} ({q.p(position[0])}, {q.p(position[1])})")
    if req.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    order = f"{'DESC' if desc else 'ASC'}"
    if walk:
        inner = " AND ".join(q.where)
        return (
            f"WITH w AS MATERIALIZED (SELECT {{key}} AS key, {column} AS sort_value FROM {{rows}} v {join}"
            f" WHERE {inner} ORDER BY {column} {order}, {{key}} {order} LIMIT {q.p(walk)})"
            " SELECT w.key AS walked_id, w.sort_value AS walked_value, m.* FROM w LEFT JOIN LATERAL ("
            + _SELECT.replace("{sort}", "w.sort_value").replace("{join}", "")
            + " WHERE {key} = w.key AND "
            + " AND ".join(predicates)
            + f") m ON true ORDER BY w.sort_value {order}, w.key {order}",
            q.params,
        )
    limit = q.p(min(req.page_size or 50, MAX_PAGE) + 1)
    sql = (
        _SELECT.replace("{sort}", column).replace("{join}", join)
        + " WHERE "
        + " AND ".join(q.where + predicates)
        + f" ORDER BY {column} {order}, {{key}} {order} LIMIT {limit}"
    )
    return sql, q.params


async def _walk(
    conn: asyncpg.Pool | asyncpg.Connection, req: ac.SearchVersions, want: int, links: bool
) -> tuple[list[asyncpg.Record], tuple[Any, str] | None]:
    """Reads versions in sort order, in growing chunks, keeping those the metadata predicates
    accept, until `want` are found or the versions run out. Used when every predicate matches
    many versions: then matches are common and a page comes from the first chunks, whatever the
    planner would have guessed about the predicates. After MAX_WALK versions it stops and also
    returns where it stopped: the page is short, and its token resumes the walk there (a rare
    combination of common predicates costs the client more pages, never one very slow call)."""
    found: list[asyncpg.Record] = []
    after, chunk, walked = None, 256, 0
    while True:
        sql, params = build(req, walk=chunk, after=after, links=links)
        rows = await conn.fetch(sql, *params)
        found += [r for r in rows if r["version_id"] is not None]
        walked += len(rows)
        if len(found) >= want or len(rows) < chunk:
            return found[:want], None
        after, chunk = (rows[-1]["walked_value"], rows[-1]["walked_id"]), min(chunk * 2, 8192)
        if walked >= MAX_WALK:
            return found, after


async def search(conn: asyncpg.Pool | asyncpg.Connection, req: ac.SearchVersions) -> ac.SearchPage:
    build(req)  # validates everything before any probe
    size = min(req.page_size or 50, MAX_PAGE)
    # A registry's links carry their sources' metadata, indexed under the sources' projects: the
    # probes by project cannot see them, so such a project (few versions, as a rule) is walked.
    links = await registry_model.projects_have_links(conn, projects_of(req))
    ids = None if links else await candidates(conn, req)
    stopped = None
    if req.metadata and ids is None:
        rows, stopped = await _walk(conn, req, size + 1, links)
    else:
        sql, params = build(req, ids, links=links)
        rows = await conn.fetch(sql, *params)
    if stopped is not None:
        return ac.SearchPage(versions=[to_view(r) for r in rows], next_page_token=search_tokens.encode(req, *stopped))
    more = len(rows) > size
    rows = rows[:size]
    token = search_tokens.encode(req, rows[-1]["sort_value"], rows[-1]["row_key"]) if more else ""
    return ac.SearchPage(versions=[to_view(r) for r in rows], next_page_token=token)
