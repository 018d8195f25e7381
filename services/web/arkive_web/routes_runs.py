"""Pages: a project's runs (newest first, paged by the server's cursor) and one run: its config,
state, inputs and outputs as links, and its producer/consumer edges drawn as a lineage graph."""

from __future__ import annotations

from aiohttp import web
from arkive_core.errors import ArkiveError
from arkive_core.refs import parse_ref

from arkive.runs import RunInfo

from .context import PAGE_SIZE, access_of, client_of, html_page, next_link
from .html import Markup, join, link, pretty_json, render, table
from .lineage_svg import lineage_svg
from .paging import cursor, runs_page

routes = web.RouteTableDef()
TIME = "%Y-%m-%d %H:%M:%S UTC"


def run_url(run_id: str) -> str:
    return link("/run", run_id)


def ref_link(ref: str) -> Markup:
    """A version ref of a run ("project/name:vN") as a link to its page; an id the server could not
    name yet (a version logged a moment ago) as text."""
    try:
        r = parse_ref(ref)
    except ArkiveError:
        return render("<code>{r}</code>", r=ref)
    if r.version_id:
        return render("<code>{r}</code>", r=ref)
    return render("<a href='{u}'>{r}</a>", u=link("/v", r.project, r.name, r.selector), r=ref)


def _refs(refs: list[str]) -> Markup:
    if not refs:
        return render("<p class='muted'>none</p>")
    return render("<ul class='refs'>{li}</ul>", li=join(render("<li>{a}</li>", a=ref_link(r)) for r in refs))


@routes.get("/runs/{project}", name="runs")
async def runs(request: web.Request) -> web.StreamResponse:
    project = request.match_info["project"]
    job_type = request.query.get("job_type", "").strip()
    client = await client_of(request)
    await access_of(request)
    page = await runs_page(client, project, job_type, cursor(request.query.get("after")), PAGE_SIZE)
    rows = [
        (
            render("<a href='{u}'>{n}</a>", u=run_url(r.run_id), n=r.name or r.run_id),
            r.job_type,
            r.group,
            r.state,
            r.started_at.strftime(TIME),
            r.finished_at.strftime(TIME) if r.finished_at else "—",
            len(r.used),
            len(r.logged),
        )
        for r in page.items
    ]
    body = render(
        "<p><a href='{pu}'>{p}</a> /</p><h1>Runs of {p}</h1>"
        "<form method='get'><input name='job_type' placeholder='job type' value='{jt}'> <button>Filter</button></form>"
        "{t}{pager}",
        pu=link("/p", project),
        p=project,
        jt=job_type,
        t=table(("run", "job type", "group", "state", "started", "finished", "inputs", "outputs"), rows),
        pager=next_link(request, page.next_cursor, "older runs →"),
    )
    return html_page(request, f"Runs of {project}", body)


@routes.get("/run/{run_id}", name="run")
async def run(request: web.Request) -> web.StreamResponse:
    client = await client_of(request)
    await access_of(request)
    r: RunInfo = await client.get_run(request.match_info["run_id"])
    graph = await client.lineage(f"run:{r.run_id}", direction="both", depth=1)
    facts = table(
        ("state", "job type", "group", "started", "finished", "id"),
        [
            (
                r.state,
                r.job_type,
                r.group,
                r.started_at.strftime(TIME),
                r.finished_at.strftime(TIME) if r.finished_at else "—",
                r.run_id,
            )
        ],
    )
    body = render(
        "<p><a href='{pu}'>{p}</a> / <a href='{ru}'>runs</a> /</p><h1>Run {n}</h1>{facts}"
        "<h2>Config</h2><pre>{config}</pre>"
        "<h2>Inputs (used)</h2>{used}<h2>Outputs (logged)</h2>{logged}"
        "<h2>Lineage</h2><p class='muted'>what it consumed and produced{trunc}</p>{svg}",
        pu=link("/p", r.project),
        p=r.project,
        ru=link("/runs", r.project),
        n=r.name or r.run_id,
        facts=facts,
        config=pretty_json(r.config),
        used=_refs(r.used),
        logged=_refs(r.logged),
        trunc=" (truncated)" if graph.truncated else "",
        svg=lineage_svg(graph),
    )
    return html_page(request, f"Run {r.name or r.run_id}", body)
