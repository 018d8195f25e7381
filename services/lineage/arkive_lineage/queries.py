"""Read side of lineage: runs, the step cache and graph traversal.

Traversal is a breadth-first walk, one indexed query per level over the frontier, with a visited
set: every node is visited once whatever the cycles (a run may use a version it logged itself),
and the depth and node limits bound the work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from arkive_core.errors import InvalidArgument, NotFound

from arkive_common import api
from arkive_common import api_batch as ab
from arkive_common import api_lineage as al
from arkive_common.contracts import INGEST
from arkive_common.db import load_jsonb
from arkive_common.rpc import RpcClient

MAX_DEPTH = 50
MAX_NODES = 10_000


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


async def get_run(conn: asyncpg.Pool | asyncpg.Connection, run_id: str) -> al.RunView:
    row = await conn.fetchrow("SELECT * FROM lineage_runs WHERE run_id = $1", run_id)
    if row is None:
        raise NotFound(f"run {run_id} not found")
    return (await _views(conn, [row]))[0]


async def _views(conn, rows: list[asyncpg.Record]) -> list[al.RunView]:
    ids = [r["run_id"] for r in rows]
    edges = await conn.fetch(
        "SELECT source, target, kind FROM lineage_edges WHERE (kind = 'used' AND target = ANY($1::text[]))"
        " OR (kind = 'logged' AND source = ANY($1::text[])) ORDER BY created_at",
        ids,
    )
    used: dict[str, list[str]] = {i: [] for i in ids}
    logged: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e["kind"] == "used":
            used[e["target"]].append(e["source"])
        else:
            logged[e["source"]].append(e["target"])
    version_ids = sorted({v for vs in (*used.values(), *logged.values()) for v in vs})
    nodes = await conn.fetch(
        "SELECT node_id, project, name, version FROM lineage_nodes WHERE node_id = ANY($1::text[])", version_ids
    )
    refs = {n["node_id"]: f"{n['project']}/{n['name']}:v{n['version']}" for n in nodes if n["version"] is not None}
    return [
        al.RunView(
            run_id=r["run_id"],
            project=r["project"],
            name=r["name"],
            job_type=r["job_type"],
            group=r["run_group"],
            config=load_jsonb(r["config"]),
            state=r["state"],
            started_at=r["started_at"].timestamp(),
            finished_at=_ts(r["finished_at"]),
            used_version_ids=used[r["run_id"]],
            logged_version_ids=logged[r["run_id"]],
            used_refs=[refs.get(v, v) for v in used[r["run_id"]]],
            logged_refs=[refs.get(v, v) for v in logged[r["run_id"]]],
        )
        for r in rows
    ]


async def list_runs(pool: asyncpg.Pool, q: al.ListRuns) -> al.RunPage:
    size = min(q.page_size or 100, 1000)
    after_time, after_id = None, ""
    if q.page_token:
        try:
            t, after_id = q.page_token.split("/", 1)
            after_time = datetime.fromtimestamp(float(t), UTC)
        except ValueError:
            raise InvalidArgument(f"invalid page_token {q.page_token!r}") from None
    rows = await pool.fetch(
        "SELECT * FROM lineage_runs WHERE project = $1 AND ($2 = '' OR job_type = $2) AND ($3 = '' OR run_group = $3)"
        " AND ($4::timestamptz IS NULL OR (started_at, run_id) < ($4, $5))"
        " ORDER BY started_at DESC, run_id DESC LIMIT $6",
        q.project,
        q.job_type,
        q.group,
        after_time,
        after_id,
        size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    token = f"{rows[-1]['started_at'].timestamp()!r}/{rows[-1]['run_id']}" if more else ""
    return al.RunPage(runs=await _views(pool, rows), next_page_token=token)


async def lookup_cache(pool: asyncpg.Pool, rpc: RpcClient, q: al.LookupCache) -> al.CacheHit:
    """The outputs of the newest finished run recorded under the key; a deleted output makes it a miss."""
    row = await pool.fetchrow(
        "SELECT c.run_id, c.version_ids FROM lineage_cache c JOIN lineage_runs r USING (run_id)"
        " WHERE c.project = $1 AND c.cache_key = $2 AND r.state = 'finished'"
        " ORDER BY r.finished_at DESC, c.recorded_at DESC LIMIT 1",
        q.project,
        q.cache_key,
    )
    if row is None:
        return al.CacheHit(hit=False)
    found = await rpc.call(INGEST.get_versions, ab.GetVersions(list(row["version_ids"])))
    if found.missing:
        return al.CacheHit(hit=False)
    return al.CacheHit(hit=True, run_id=row["run_id"], versions=found.versions)


async def _node_views(conn, depths: dict[str, int], as_of: datetime | None) -> dict[str, al.NodeView]:
    rows = await conn.fetch(
        "SELECT n.*, r.state AS run_state FROM lineage_nodes n LEFT JOIN lineage_runs r ON r.run_id = n.node_id"
        " WHERE n.node_id = ANY($1::text[])",
        list(depths),
    )
    views = {}
    for r in rows:
        deleted = r["deleted_at"] is not None and (as_of is None or r["deleted_at"] <= as_of)
        views[r["node_id"]] = al.NodeView(
            id=r["node_id"],
            kind=r["kind"],
            project=r["project"],
            name=r["name"],
            type=r["type"],
            version=r["version"] if r["version"] is not None else -1,
            depth=depths[r["node_id"]],
            deleted=deleted,
            state=r["run_state"] or "",
        )
    return views


async def _walk(conn, start: str, upstream: bool, depth: int, limit: int, as_of: datetime | None):
    near, far = ("target", "source") if upstream else ("source", "target")
    depths = {start: 0}
    edges: set[tuple[str, str, str]] = set()
    frontier = [start]
    truncated = False
    for level in range(1, depth + 1):
        if not frontier:
            break
        rows = await conn.fetch(
            f"SELECT source, target, kind FROM lineage_edges WHERE {near} = ANY($1::text[])"
            " AND ($2::timestamptz IS NULL OR created_at <= $2)",
            frontier,
            as_of,
        )
        nxt = []
        for r in rows:
            node = r[far]
            if node not in depths:
                if len(depths) >= limit:
                    truncated = True
                    continue
                depths[node] = level
                nxt.append(node)
            edges.add((r["source"], r["target"], r["kind"]))
        frontier = nxt
    return depths, edges, truncated


async def get_lineage(pool: asyncpg.Pool, rpc: RpcClient, q: al.GetLineage) -> al.LineageGraph:
    depth = q.depth or 5
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgument(f"depth must be between 1 and {MAX_DEPTH}")
    limit = min(q.limit or 1000, MAX_NODES)
    if q.direction not in ("up", "down", "both"):
        raise InvalidArgument("direction must be up, down or both")
    as_of = datetime.fromtimestamp(q.as_of, UTC) if q.as_of is not None else None
    if q.ref.startswith("run:"):
        start = q.ref.removeprefix("run:")
        await get_run(pool, start)
    else:
        version = await rpc.call(INGEST.get_version, api.GetVersion(q.ref, q.as_of))
        start = version.version_id
    depths: dict[str, int] = {}
    edges: set[tuple[str, str, str]] = set()
    truncated = False
    # One snapshot for the walk and the node lookup: else an event applied in between could show a
    # node whose edges the walk did not see yet.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        for upstream in {"up": (True,), "down": (False,), "both": (True, False)}[q.direction]:
            d, e, t = await _walk(conn, start, upstream, depth, limit, as_of)
            for node, level in d.items():
                depths[node] = min(level, depths.get(node, level))
            edges |= e
            truncated |= t
        views = await _node_views(conn, depths, as_of)
    if start not in views:
        raise NotFound(f"{q.ref} has no lineage yet (its version is still being indexed); try again")
    kept = {
        n
        for n, v in views.items()
        if n == start
        or (v.kind == "version" and (not q.artifact_type or v.type == q.artifact_type))
        or (v.kind == "run" and (not q.job_type or v.type == q.job_type))
    }
    nodes = sorted((views[n] for n in kept), key=lambda v: (v.depth, v.kind, v.project, v.name, v.version, v.id))
    next_token = ""
    if q.page_size:  # pages over the (deterministic) node order; an offset is enough for a bounded graph
        try:
            offset = int(q.page_token or "0")
        except ValueError:
            raise InvalidArgument(f"invalid page_token {q.page_token!r}") from None
        if q.page_size < 0 or offset < 0:
            raise InvalidArgument("page_size and page_token must not be negative")
        nodes, more = nodes[offset : offset + q.page_size], offset + q.page_size < len(nodes)
        next_token = str(offset + q.page_size) if more else ""
    on_page = {n.id for n in nodes}
    return al.LineageGraph(
        root=views[start],
        nodes=nodes,
        edges=[
            al.EdgeView(s, t, k)
            for s, t, k in sorted(edges)
            if s in kept and t in kept and (s in on_page or t in on_page)
        ],
        truncated=truncated,
        next_page_token=next_token,
    )
