"""Headers every response carries, the session cookie and CSRF tokens.

CSRF: a signed token tied to the session. Each browser gets a random session id in an HttpOnly,
SameSite=Strict cookie; the token a form carries is HMAC(secret, session id). A POST whose form
token does not match its cookie's session is refused with 403, so another site can neither forge a
form (it cannot read the cookie nor compute the HMAC) nor replay a token of another session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

SESSION_COOKIE = "arkive_session"
TOKEN_COOKIE = "arkive_token"
# No script at all; the CSS is a file of ours; plots are same-origin images or a sandboxed frame.
CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; frame-src 'self'; img-src 'self'; style-src 'self'"
)
SESSION_ID = web.RequestKey("session_id", str)
CSRF = web.RequestKey("csrf", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_token(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, session_id: str, token: str) -> bool:
    if not session_id or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, session_id), token)


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    """HttpOnly, SameSite=Strict, Secure when the page was served over https."""
    response.set_cookie(
        name, value, httponly=True, samesite="Strict", secure=request.secure, path="/", max_age=30 * 86400
    )


def make_middleware(secret: bytes) -> Any:  # an aiohttp middleware
    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        sid = request.cookies.get(SESSION_COOKIE, "")
        fresh = not (len(sid) == 43 and sid.replace("-", "").replace("_", "").isalnum())
        if fresh:
            sid = secrets.token_urlsafe(32)
        request[SESSION_ID] = sid
        request[CSRF] = csrf_token(secret, sid)
        if request.method == "POST":
            form = await request.post()
            if fresh or not csrf_valid(secret, sid, str(form.get("csrf", ""))):
                raise web.HTTPForbidden(text="missing or invalid CSRF token")
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects and errors carry the headers too
            response = exc
            _harden(response)
            if fresh:
                set_cookie(request, response, SESSION_COOKIE, sid)
            raise
        _harden(response)
        if fresh and not response.prepared:
            set_cookie(request, response, SESSION_COOKIE, sid)
        return response

    return security


def _harden(response: web.StreamResponse) -> None:
    if response.prepared:  # a streamed download set its headers before its first byte
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Frame-Options", "DENY")
