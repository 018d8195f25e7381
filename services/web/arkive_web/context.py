"""What every handler needs: the user's gateway client, the page wrapper and error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from arkive_core.errors import (
    AlreadyExists,
    ArkiveError,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

from arkive import AsyncClient

from .access import IDENTITIES, Access
from .gateway import Clients
from .html import Markup, page, render
from .security import CSRF, TOKEN_COOKIE

CLIENTS = web.AppKey("clients", Clients)
ACCESS = web.RequestKey("access", Access)
PAGE_SIZE = 50


async def client_of(request: web.Request) -> AsyncClient:
    return await request.app[CLIENTS].get(request.cookies.get(TOKEN_COOKIE, ""))


async def access_of(request: web.Request) -> Access:
    """The caller's identity and roles (WhoAmI, cached briefly); the page header shows it."""
    if ACCESS not in request:
        token = request.cookies.get(TOKEN_COOKIE, "")
        request[ACCESS] = await request.app[IDENTITIES].of(token, await client_of(request))
    return request[ACCESS]


def html_page(request: web.Request, title: str, body: Markup, status: int = 200) -> web.Response:
    access = request.get(ACCESS)
    doc = page(
        title,
        body,
        signed_in=bool(request.cookies.get(TOKEN_COOKIE)),
        csrf=request[CSRF],
        who=access.label() if access else "",
    )
    return web.Response(text=doc, content_type="text/html", charset="utf-8", status=status)


def next_link(request: web.Request, next_cursor: str, label: str = "next page →") -> Markup:
    """Keyset paging: the first page, and the next one by the server's cursor (?after=)."""
    parts = []
    if request.query.get("after"):
        parts.append(render("<a href='{u}'>⇤ first page</a>", u=str(request.rel_url.without_query_params("after"))))
    if next_cursor:
        parts.append(render("<a href='{u}'>{l}</a>", u=str(request.rel_url.update_query(after=next_cursor)), l=label))
    return render("<p class='pager'>{p}</p>", p=Markup(" · ".join(parts)))


def page_number(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1


def pager(request: web.Request, total: int) -> Markup:
    """Previous/next links keeping the other query parameters."""
    n, pages = page_number(request), max(1, -(-total // PAGE_SIZE))
    parts = []
    for label, target in (("← previous", n - 1), ("next →", n + 1)):
        if 1 <= target <= pages:
            url = request.rel_url.update_query(page=str(target))
            parts.append(render("<a href='{u}'>{l}</a> ", u=str(url), l=label))
    return render(
        "<p class='muted'>page {n} of {p} · {t} in all {links}</p>", n=n, p=pages, t=total, links=Markup("".join(parts))
    )


def on_page(request: web.Request, items: list) -> list:
    start = (page_number(request) - 1) * PAGE_SIZE
    return items[start : start + PAGE_SIZE]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The HTTP status of a refusal; anything else the gateway answers is a 502 (bad gateway).
STATUS_OF: tuple[tuple[type[ArkiveError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (InvalidArgument, 400),
    (FailedPrecondition, 409),  # e.g. deleting a version an alias holds, editing a deleted one
    (AlreadyExists, 409),
    (Conflict, 409),
    (Unavailable, 503),
)


@web.middleware
async def gateway_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An arkive error from the gateway as a page with the matching HTTP status (the message escaped)."""
    try:
        return await handler(request)
    except ArkiveError as exc:
        name = exc.code.value
        # The SDK keeps a gRPC code it has no class for at the start of the message.
        if name == "UNAUTHENTICATED" or exc.message.startswith("UNAUTHENTICATED"):
            raise web.HTTPSeeOther(
                str(request.app.router["signin"].url_for().with_query(next=request.path_qs))
            ) from None
        status = 502
        for cls, http in STATUS_OF:
            if isinstance(exc, cls):
                status = http
        body = render("<h1>{t}</h1><p class='err'>{m}</p>", t=name, m=exc.message)
        return html_page(request, name, body, status=status)
