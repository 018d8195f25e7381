"""Sign-in with an API token, sign-out, and the one write action: moving aliases."""

from __future__ import annotations

from aiohttp import web

from .context import client_of, html_page
from .html import Markup, link, render
from .security import CSRF, TOKEN_COOKIE, set_cookie

routes = web.RouteTableDef()
TOKEN_PREFIX = "ark_"
MAX_TOKEN = 512


def _safe_next(target: str) -> str:
    """Only a path of this site (never //host or a scheme): an open redirect would send users away."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@routes.get("/signin", name="signin")
async def signin_form(request: web.Request) -> web.StreamResponse:
    return html_page(request, "Sign in", _form(request, request.query.get("next", "/")))


def _form(request: web.Request, next_url: str, error: str = "") -> Markup:
    return render(
        "<h1>Sign in</h1>{e}<p>Paste an API token (<code>ark_…</code>, from <code>arkive token create</code>). "
        "It is kept in an HttpOnly cookie of this browser and sent to the gateway with each call.</p>"
        "<form method='post' action='/signin'><input type='hidden' name='csrf' value='{c}'>"
        "<input type='hidden' name='next' value='{n}'><input type='password' name='token' size='60' required "
        "autocomplete='off' placeholder='ark_…'> <button>Sign in</button></form>",
        e=render("<p class='err'>{m}</p>", m=error) if error else "",
        c=request[CSRF],
        n=_safe_next(next_url),
    )


@routes.post("/signin")
async def signin(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token, next_url = str(form.get("token", "")).strip(), _safe_next(str(form.get("next", "/")))
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN or not token.isprintable() or " " in token:
        return html_page(request, "Sign in", _form(request, next_url, "That is not an API token (ark_…)."), status=400)
    response = web.HTTPSeeOther(next_url)
    set_cookie(request, response, TOKEN_COOKIE, token)
    raise response


@routes.post("/signout", name="signout")
async def signout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/")
    response.del_cookie(TOKEN_COOKIE, path="/")
    raise response


@routes.post("/aliases/{version_id}", name="aliases")
async def move_aliases(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    add, remove = str(form.get("add", "")).split(), str(form.get("remove", "")).split()
    client = await client_of(request)
    v = await client.set_aliases(request.match_info["version_id"], add=add, remove=remove)
    raise web.HTTPSeeOther(link("/v", v.project, v.name, f"v{v.version}"))
