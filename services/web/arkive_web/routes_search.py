"""The search page: the filters of `arkive search` (type, name glob, tags, alias, metadata
predicates "KEY OP VALUE", sort) over one project, paged by the server's cursor."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from arkive_core.errors import InvalidArgument

from arkive import ArtifactVersion

from .context import PAGE_SIZE, access_of, client_of, html_page, next_link
from .html import Markup, human_size, join, link, render, table
from .paging import Page, cursor, search_page

routes = web.RouteTableDef()
MAX_CALLS = 5  # SearchVersions calls per page: a rare filter may answer short pages before the last
MAX_PREDICATES = 20


def _terms(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def _metadata_value(v: ArtifactVersion, key: str) -> Any:
    value: Any = v.metadata
    for part in key.removeprefix("metadata.").split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


async def _collect(request: web.Request, project: str, filters: dict[str, Any]) -> Page[ArtifactVersion]:
    """Up to PAGE_SIZE matches: keeps asking while the server has a cursor and the page is short."""
    client = await client_of(request)
    after, items = cursor(request.query.get("after")), list[ArtifactVersion]()
    for _ in range(MAX_CALLS):
        page = await search_page(client, project, after=after, size=PAGE_SIZE - len(items), **filters)
        items.extend(page.items)
        after = page.next_cursor
        if not after or len(items) >= PAGE_SIZE:
            break
    return Page(items, after)


@routes.get("/search", name="search")
async def search(request: web.Request) -> web.StreamResponse:
    q = request.query
    project = q.get("project", "").strip()
    where_text = q.get("where", "")
    filters: dict[str, Any] = {
        "type": q.get("type", "").strip(),
        "name": q.get("name", "").strip(),
        "tags": _terms(q.get("tags", "")),
        "alias": q.get("alias", "").strip(),
        "where": [w.strip() for w in where_text.splitlines() if w.strip()][:MAX_PREDICATES],
        "order_by": q.get("order_by", "").strip(),
    }
    form = render(
        "<form method='get' action='/search' class='edit'>"
        "<input name='project' placeholder='project' value='{p}' required> "
        "<input name='type' placeholder='type' value='{t}' size='10'> "
        "<input name='name' placeholder='name glob (res*)' value='{n}' size='14'> "
        "<input name='tags' placeholder='tags (all of)' value='{tags}' size='14'> "
        "<input name='alias' placeholder='alias' value='{a}' size='10'> "
        "<input name='order_by' placeholder='sort: -created_at, version, -metadata.acc' value='{o}' size='30'>"
        "<br><textarea name='where' rows='2' placeholder='metadata predicates, one a line: accuracy&gt;0.9'>{w}"
        "</textarea><br><button>Search</button></form>",
        p=project,
        t=filters["type"],
        n=filters["name"],
        tags=" ".join(filters["tags"]),
        a=filters["alias"],
        o=filters["order_by"],
        w=where_text,
    )
    if not project:
        return html_page(request, "Search", render("<h1>Search versions</h1>{f}", f=form))
    await access_of(request)
    try:
        page = await _collect(request, project, filters)
    except InvalidArgument as exc:  # a filter the SDK or the server refused: the form again, with why
        body = render("<h1>Search versions</h1>{f}<p class='err'>{m}</p>", f=form, m=exc.message)
        return html_page(request, "Search", body, status=400)
    sort_key = filters["order_by"].lstrip("-")
    meta_col = sort_key if sort_key not in ("", "created_at", "version") else ""
    headers = ["version", "type", "aliases", "tags", "size", "created"] + ([meta_col] if meta_col else [])
    rows = [
        [
            render(
                "<a href='{u}'>{r}</a>", u=link("/v", v.project, v.name, f"v{v.version}"), r=f"{v.name}:v{v.version}"
            ),
            v.type,
            join(render("<span class='chip'>{a}</span>", a=a) for a in v.aliases),
            ", ".join(v.tags),
            human_size(v.total_size),
            v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        ]
        + ([_metadata_value(v, meta_col)] if meta_col else [])
        for v in page.items
    ]
    results: Markup = table(headers, rows) if rows else render("<p class='muted'>no matching versions</p>")
    body = render(
        "<h1>Search versions of <a href='{pu}'>{p}</a></h1>{f}<p class='muted'>{n} on this page</p>{r}{pager}",
        pu=link("/p", project),
        p=project,
        f=form,
        n=len(page.items),
        r=results,
        pager=next_link(request, page.next_cursor),
    )
    return html_page(request, f"Search {project}", body)
