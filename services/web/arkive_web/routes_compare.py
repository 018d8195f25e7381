"""The compare page: files added, removed and changed between two versions, and the metadata difference."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .context import access_of, client_of, html_page
from .html import Markup, human_size, link, render, table
from .routes_version import version_ref

routes = web.RouteTableDef()
MAX_VALUE_SHOWN = 400


def _value(value: Any) -> Markup:
    """A metadata value in a diff cell: compact JSON, long ones cut (the version pages show them whole)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_SHOWN:
        text = text[:MAX_VALUE_SHOWN] + f"… ({len(text)} characters)"
    return render("<code>{t}</code>", t=text)


@routes.get("/compare", name="compare")
async def compare(request: web.Request) -> web.StreamResponse:
    a, b = request.query.get("a", "").strip(), request.query.get("b", "").strip()
    form = render(
        "<form method='get'><input name='a' size='36' value='{a}' placeholder='project/name:v0' required> "
        "<input name='b' size='36' value='{b}' placeholder='project/name:v1' required> <button>Compare</button></form>",
        a=a,
        b=b,
    )
    if not (a and b):
        return html_page(request, "Compare", render("<h1>Compare two versions</h1>{f}", f=form))
    client = await client_of(request)
    await access_of(request)
    va, vb = await asyncio.gather(client.get_version(a), client.get_version(b))
    d = await client.diff(va, vb)
    files = [
        (f.kind, f.path, human_size(f.before.size) if f.before else "—", human_size(f.after.size) if f.after else "—")
        for f in d.added + d.removed + d.changed
    ]
    meta: list[tuple[str, str, Any, Any]] = [("added", k, "—", _value(x)) for k, x in sorted(d.metadata.added.items())]
    meta += [("removed", k, _value(x), "—") for k, x in sorted(d.metadata.removed.items())]
    meta += [("changed", k, _value(o), _value(n)) for k, (o, n) in sorted(d.metadata.changed.items())]
    body = render(
        "<h1>Compare</h1>{f}<p><a href='{ua}'>{ra}</a> → <a href='{ub}'>{rb}</a></p>"
        "<h2>Files</h2>{ft}<h2>Metadata</h2>{mt}",
        f=form,
        ua=link("/v", va.project, va.name, f"v{va.version}"),
        ra=version_ref(va),
        ub=link("/v", vb.project, vb.name, f"v{vb.version}"),
        rb=version_ref(vb),
        ft=table(("change", "path", "before", "after"), files) if files else render("<p>same files</p>"),
        mt=table(("change", "key", "before", "after"), meta) if meta else render("<p>same metadata</p>"),
    )
    return html_page(request, "Compare", body)
