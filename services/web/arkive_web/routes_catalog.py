"""Pages: the start page (open a project), a project's collections, a collection's versions."""

from __future__ import annotations

from aiohttp import web

from arkive_common.validation import check_name

from .context import client_of, html_page, on_page, pager
from .html import human_size, join, link, render, table

routes = web.RouteTableDef()


@routes.get("/", name="home")
async def home(request: web.Request) -> web.StreamResponse:
    project = request.query.get("project", "").strip()
    if project:
        raise web.HTTPSeeOther(link("/p", check_name(project, "project")))
    # The gateway has no call that lists projects: the visitor names one.
    body = render(
        "<h1>Projects</h1><p>The gateway offers no list of projects yet: enter the one to open.</p>"
        "<form method='get' action='/'><input name='project' placeholder='project' required autofocus> "
        "<button>Open</button></form>"
    )
    return html_page(request, "Projects", body)


@routes.get("/p/{project}", name="project")
async def project(request: web.Request) -> web.StreamResponse:
    name = request.match_info["project"]
    type_ = request.query.get("type", "").strip()
    pattern = request.query.get("name", "").strip().lower()
    client = await client_of(request)
    collections = await client.artifacts(name, type=type_ or None)
    if pattern:
        collections = [c for c in collections if pattern in c.name.lower()]
    rows = [
        (
            render("<a href='{u}'>{n}</a>", u=link("/p", name, c.name), n=c.name),
            c.type,
            c.version_count,
        )
        for c in on_page(request, collections)
    ]
    body = render(
        "<h1>Project {p}</h1><form method='get'><input name='name' placeholder='name contains' value='{q}'> "
        "<input name='type' placeholder='type' value='{t}'> <button>Filter</button></form>{table}{pager}",
        p=name,
        q=pattern,
        t=type_,
        table=table(("collection", "type", "versions"), rows),
        pager=pager(request, len(collections)),
    )
    return html_page(request, f"Project {name}", body)


@routes.get("/p/{project}/{name}", name="collection")
async def collection(request: web.Request) -> web.StreamResponse:
    project, name = request.match_info["project"], request.match_info["name"]
    client = await client_of(request)
    versions = await client.versions(f"{project}/{name}")
    rows = [
        (
            render("<a href='{u}'>v{n}</a>", u=link("/v", project, name, f"v{v.version}"), n=v.version),
            join(render("<span class='chip'>{a}</span>", a=a) for a in v.aliases),
            ", ".join(v.tags),
            v.label,
            human_size(v.total_size),
            v.file_count,
            v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
        for v in on_page(request, versions)
    ]
    compare = ""
    if len(versions) >= 2:
        a, b = versions[1], versions[0]
        compare = render(
            "<p><a href='{u}'>compare v{a} with v{b}</a></p>",
            u=link("/compare", a=f"{project}/{name}:v{a.version}", b=f"{project}/{name}:v{b.version}"),
            a=a.version,
            b=b.version,
        )
    body = render(
        "<p><a href='{pu}'>{p}</a> /</p><h1>{n}</h1>{compare}{table}{pager}",
        pu=link("/p", project),
        p=project,
        n=name,
        compare=compare,
        table=table(("version", "aliases", "tags", "label", "size", "files", "created"), rows),
        pager=pager(request, len(versions)),
    )
    return html_page(request, f"{project}/{name}", body)
