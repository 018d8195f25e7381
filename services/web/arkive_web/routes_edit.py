"""Writes from the version page, each the same RPC its CLI command makes: tags, description and
metadata (UpdateVersion, as `arkive tag`/`arkive meta set`), delete and undelete (DeleteVersion /
UndeleteVersion, as `arkive delete`/`arkive undelete`).

The gateway checks the caller's role on every one of them (writer to edit, admin to delete): a
reader's forged POST is refused there with PERMISSION_DENIED, which the page shows as 403, and
nothing changes. The forms are only offered to those who may use them (routes_version).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from arkive_core.errors import InvalidArgument

from arkive import ArtifactVersion

from .context import client_of, html_page
from .html import Markup, join, link, render

routes = web.RouteTableDef()
MAX_METADATA_TEXT = 64 * 1024


def version_url(v: ArtifactVersion) -> str:
    return link("/v", v.project, v.name, f"v{v.version}")


def _words(form: Any, key: str) -> list[str]:
    return [w for w in str(form.get(key, "")).replace(",", " ").split() if w]


def _metadata(text: str) -> dict[str, Any] | None:
    """The form's JSON object of keys to set ("" for none)."""
    if not text.strip():
        return None
    if len(text) > MAX_METADATA_TEXT:
        raise InvalidArgument(f"metadata to set is over {MAX_METADATA_TEXT} characters")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"metadata to set is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument('metadata to set must be a JSON object, e.g. {"owner": "ml"}')
    return value


@routes.post("/edit/{version_id}", name="edit")
async def edit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    changes: dict[str, Any] = {
        "add_tags": _words(form, "add_tags"),
        "remove_tags": _words(form, "remove_tags"),
        "unset": _words(form, "unset"),
        "metadata": _metadata(str(form.get("metadata", ""))),
    }
    # The description changes only when it was edited (the form carries the text it showed).
    description, shown = (str(form.get(k, "")).replace("\r\n", "\n") for k in ("description", "shown_description"))
    if "description" in form and description != shown:
        changes["description"] = description
    client = await client_of(request)
    v = await client.update_version(request.match_info["version_id"], **changes)
    raise web.HTTPSeeOther(version_url(v))


@routes.post("/delete/{version_id}", name="delete")
async def delete(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    client = await client_of(request)
    v = await client.get_version(request.match_info["version_id"])
    result = await client.delete(v.version_id, delete_aliases=bool(form.get("delete_aliases")))
    if result.skipped:  # e.g. held by an alias: nothing was deleted, say why
        reasons = join(render("<li>v{n}: {r}</li>", n=s.version, r=s.reason) for s in result.skipped)
        body = render(
            "<h1>Not deleted</h1><ul class='err'>{r}</ul><p><a href='{u}'>back to v{n}</a></p>",
            r=reasons,
            u=version_url(v),
            n=v.version,
        )
        return html_page(request, "Not deleted", body, status=409)
    target = link("/p", v.project, v.name, deleted=v.version_id, ref=f"{v.project}/{v.name}:v{v.version}")
    raise web.HTTPSeeOther(target)


@routes.post("/undelete/{version_id}", name="undelete")
async def undelete(request: web.Request) -> web.StreamResponse:
    client = await client_of(request)
    await client.undelete(request.match_info["version_id"])
    v = await client.get_version(request.match_info["version_id"])
    raise web.HTTPSeeOther(version_url(v))


@routes.post("/p/{project}/{name}/undelete", name="undelete_in_collection")
async def undelete_in_collection(request: web.Request) -> web.StreamResponse:
    """Undelete by number or label within a collection (a version retention or the CLI deleted)."""
    form = await request.post()
    selector = str(form.get("selector", "")).strip()
    if not selector:
        raise InvalidArgument("name the version to undelete: v12 or a label")
    client = await client_of(request)
    project, name = request.match_info["project"], request.match_info["name"]
    result = await client.undelete(f"{project}/{name}:{selector}")
    v = await client.get_version(result.undeleted[0].version_id)
    raise web.HTTPSeeOther(version_url(v))


def undelete_form(project: str, name: str, csrf: str) -> Markup:
    return render(
        "<form method='post' action='{u}' class='edit'><input type='hidden' name='csrf' value='{c}'>"
        "<input name='selector' size='12' placeholder='v12 or label'> <button>Undelete version</button> "
        "<span class='muted'>(admins; within the grace window)</span></form>",
        u=link("/p", project, name, "undelete"),
        c=csrf,
    )


def edit_forms(v: ArtifactVersion, csrf: str, *, writer: bool, admin: bool) -> Markup:
    """The version page's controls for this caller: none for a reader."""
    parts: list[Markup] = []
    if writer:
        parts.append(
            render(
                "<h2>Edit</h2><form method='post' action='{au}' class='edit'><input type='hidden' name='csrf' "
                "value='{c}'><input name='add' size='30' placeholder='add aliases (space-separated)'> "
                "<input name='remove' placeholder='remove aliases'> <button>Move aliases</button></form>"
                "<form method='post' action='{eu}' class='edit' id='edit-version'>"
                "<input type='hidden' name='csrf' value='{c}'>"
                "<input name='add_tags' placeholder='add tags' size='24'> "
                "<input name='remove_tags' placeholder='remove tags' size='24'><br>"
                "<input type='hidden' name='shown_description' value='{d}'>"
                "<label>description<textarea name='description' rows='3'>\n{d}</textarea></label>"
                "<textarea name='metadata' rows='3' placeholder='metadata keys to set, a JSON object: "
                "{{&quot;owner&quot;: &quot;ml&quot;}}'></textarea>"
                "<input name='unset' placeholder='metadata keys to remove' size='40'> "
                "<button>Save changes</button></form>",
                au=link("/aliases", v.version_id),
                eu=link("/edit", v.version_id),
                c=csrf,
                d=v.description,
            )
        )
    if admin:
        parts.append(
            render(
                "<form method='post' action='{u}' class='edit danger'><input type='hidden' name='csrf' value='{c}'>"
                "<label><input type='checkbox' name='delete_aliases' value='1'> also remove its aliases</label> "
                "<button>Delete version</button> <span class='muted'>(undeletable within the grace window)</span>"
                "</form>",
                u=link("/delete", v.version_id),
                c=csrf,
            )
        )
    return join(parts)
