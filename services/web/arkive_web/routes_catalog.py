"""Pages: the start page (the caller's projects), a project's collections, a collection's versions."""

from __future__ import annotations

from aiohttp import web
from arkive_core.validation import check_name

from .context import PAGE_SIZE, access_of, client_of, html_page, next_link, on_page, pager
from .html import Markup, human_size, join, link, render, table
from .paging import cursor, versions_page
from .projects import list_projects
from .routes_edit import undelete_form
from .security import CSRF

routes = web.RouteTableDef()


@routes.get("/", name="home")
async def home(request: web.Request) -> web.StreamResponse:
    project = request.query.get("project", "").strip()
    if project:
        raise web.HTTPSeeOther(link("/p", check_name(project, "project")))
    client, access = await client_of(request), await access_of(request)
    rows = [
        (
            render("<a href='{u}'>{n}</a>", u=link("/p", p.name), n=p.name),
            p.role,
            p.collections,
            p.versions,
            human_size(p.total_bytes),
            render("<a href='{r}'>runs</a> · <a href='{s}'>search</a>", r=link("/runs", p.name), s=search_url(p.name)),
        )
        for p in await list_projects(client, access)
    ]
    listed = (
        table(("project", "your role", "collections", "versions", "size", ""), rows)
        if rows
        else render("<p class='muted'>No project you may read has a version yet.</p>")
    )
    body = render(
        "<h1>Projects</h1>{listed}<form method='get' action='/'><input name='project' placeholder='project' "
        "required> <button>Open</button></form>",
        listed=listed,
    )
    return html_page(request, "Projects", body)


def search_url(project: str, **query: str) -> str:
    return link("/search", project=project, **query)


@routes.get("/p/{project}", name="project")
async def project(request: web.Request) -> web.StreamResponse:
    name = request.match_info["project"]
    type_ = request.query.get("type", "").strip()
    pattern = request.query.get("name", "").strip().lower()
    client = await client_of(request)
    collections = await client.artifacts(name, type=type_ or None)
    await access_of(request)  # the header names the caller
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
        "<h1>Project {p}</h1><p><a href='{ru}'>runs</a> · <a href='{su}'>search versions</a></p>"
        "<form method='get'><input name='name' placeholder='name contains' value='{q}'> "
        "<input name='type' placeholder='type' value='{t}'> <button>Filter</button></form>{table}{pager}",
        p=name,
        ru=link("/runs", name),
        su=search_url(name),
        q=pattern,
        t=type_,
        table=table(("collection", "type", "versions"), rows),
        pager=pager(request, len(collections)),
    )
    return html_page(request, f"Project {name}", body)


@routes.get("/p/{project}/{name}", name="collection")
async def collection(request: web.Request) -> web.StreamResponse:
    """One page of versions, newest first, by the server's cursor (a collection may hold 10,000)."""
    project, name = request.match_info["project"], request.match_info["name"]
    client, access = await client_of(request), await access_of(request)
    after = cursor(request.query.get("after"))
    page = await versions_page(client, project, name, after, PAGE_SIZE)
    versions = page.items
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
        for v in versions
    ]
    compare: Markup | str = ""
    if len(versions) >= 2 and not after:
        a, b = versions[1], versions[0]
        compare = render(
            "<p><a href='{u}'>compare v{a} with v{b}</a></p>",
            u=link("/compare", a=f"{project}/{name}:v{a.version}", b=f"{project}/{name}:v{b.version}"),
            a=a.version,
            b=b.version,
        )
    body = render(
        "<p><a href='{pu}'>{p}</a> /</p><h1>{n}</h1>{deleted}{compare}"
        "<form method='get' action='{go}'><input name='v' size='8' placeholder='v123 or alias'> "
        "<button>Go to version</button></form>{table}{pager}{undelete}",
        pu=link("/p", project),
        p=project,
        n=name,
        go=link("/p", project, name, "go"),
        deleted=_deleted_notice(request, access.can_admin(project)),
        compare=compare,
        table=table(("version", "aliases", "tags", "label", "size", "files", "created"), rows),
        pager=next_link(request, page.next_cursor, "older versions →"),
        undelete=undelete_form(project, name, request[CSRF]) if access.can_admin(project) else "",
    )
    return html_page(request, f"{project}/{name}", body)


@routes.get("/p/{project}/{name}/go", name="goto")
async def goto(request: web.Request) -> web.StreamResponse:
    selector = request.query.get("v", "").strip() or "latest"
    raise web.HTTPSeeOther(link("/v", request.match_info["project"], request.match_info["name"], selector))


def _deleted_notice(request: web.Request, admin: bool) -> Markup | str:
    """After a delete: what was deleted, and (for admins) the form that undoes it."""
    deleted, ref = request.query.get("deleted", ""), request.query.get("ref", "")
    if not deleted:
        return ""
    undo = render(
        "<form class='inline' method='post' action='{u}'><input type='hidden' name='csrf' value='{c}'>"
        "<button>Undelete</button></form>",
        u=link("/undelete", deleted),
        c=request[CSRF],
    )
    return render(
        "<div class='notice'>Deleted {r} ({id}). {undo}</div>", r=ref or deleted, id=deleted, undo=undo if admin else ""
    )
