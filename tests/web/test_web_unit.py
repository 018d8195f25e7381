"""The dashboard's escaping helper, its CSRF protection and security headers (through the real
aiohttp app, no gateway needed), and that a signed-in user's token reaches the gateway."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer, make_mocked_request
from arkive_core.errors import NotFound

from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
from arkive_web.app import WebService, WebSettings, make_app
from arkive_web.context import on_page, pager
from arkive_web.gateway import make_client
from arkive_web.html import Markup, esc, link, render, table
from arkive_web.security import csrf_token, csrf_valid

HOSTILE = "<script>alert(1)</script>\"'&"


def test_render_escapes_every_value_but_markup() -> None:
    out = render("<p title='{t}'>{b}</p>{m}", t=HOSTILE, b=HOSTILE, m=Markup("<br>"))
    assert out == (
        "<p title='&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;'>"
        "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;</p><br>"
    )
    assert esc(None) == "" and esc(Markup("<i>")) == "<i>"
    # a table of hostile cells and headers stays text
    assert "<script>" not in table([HOSTILE], [[HOSTILE]])


def test_links_quote_each_segment() -> None:
    assert link("/v", "p", "a/b?c#d", "v0") == "/v/p/a%2Fb%3Fc%23d/v0"
    assert link("/compare", a="p/x:v0", b="") == "/compare?a=p%2Fx%3Av0"


def test_csrf_token_is_tied_to_the_session() -> None:
    secret = b"k" * 32
    token = csrf_token(secret, "session-a")
    assert csrf_valid(secret, "session-a", token)
    assert not csrf_valid(secret, "session-b", token)
    assert not csrf_valid(b"other" * 8, "session-a", token)
    assert not csrf_valid(secret, "session-a", "") and not csrf_valid(secret, "", token)


@pytest.fixture
async def web() -> Any:
    server = TestServer(make_app(WebSettings(gateway_addr="127.0.0.1:1")))
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def test_posts_need_the_sessions_csrf_token(web: TestServer) -> None:
    # unsafe=True: the jar keeps cookies of an IP address (the test server's)
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser, ClientSession() as other:
        form_page = await browser.get(web.make_url("/signin"))
        html = await form_page.text()
        assert form_page.status == 200
        token = html.split("name='csrf' value='")[1].split("'")[0]
        session = form_page.cookies["arkive_session"]
        assert session["httponly"] and session["samesite"] == "Strict"
        for headers in (form_page.headers,):
            assert "default-src 'self'" in headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert headers["X-Content-Type-Options"] == "nosniff"
        good = {"csrf": token, "token": "ark_" + "x" * 40, "next": "//evil.example/"}
        # no token, a wrong one, and the right token from another browser (no session): 403
        for client, data in ((browser, {"token": "ark_x"}), (browser, {**good, "csrf": "0" * 64}), (other, good)):
            resp = await client.post(web.make_url("/signin"), data=data, allow_redirects=False)
            assert resp.status == 403, await resp.text()
        resp = await browser.post(web.make_url("/signin"), data=good, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/"  # never off-site
        cookie = resp.cookies["arkive_token"]
        assert cookie.value == good["token"] and cookie["httponly"] and cookie["samesite"] == "Strict"
        resp = await browser.post(web.make_url("/signout"), allow_redirects=False)
        assert resp.status == 403


class _RecordingArtifacts(agrpc.ArtifactServiceServicer):
    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def GetVersion(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.seen.append(dict(context.invocation_metadata() or ()))
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no {request.ref}")

    async def ListArtifacts(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        token = dict(context.invocation_metadata() or ()).get("authorization", "")
        if not token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "an API token is required")
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"<i>{request.project}</i> is not yours")


async def test_each_users_token_is_their_credential_at_the_gateway() -> None:
    server = grpc.aio.server()
    artifacts = _RecordingArtifacts()
    agrpc.add_ArtifactServiceServicer_to_server(artifacts, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        for token in ("ark_alice", ""):
            client = make_client(f"127.0.0.1:{port}", token, retry_deadline=0)
            try:
                with pytest.raises(NotFound):
                    await client.get_version("demo/x:v0")
            finally:
                await client.close()
        assert artifacts.seen[0].get("authorization") == "Bearer ark_alice"
        assert "authorization" not in artifacts.seen[1]  # signed out: no credentials at all
    finally:
        await server.stop(None)


async def test_gateway_refusals_become_sign_in_and_403_pages() -> None:
    server = grpc.aio.server()
    agrpc.add_ArtifactServiceServicer_to_server(_RecordingArtifacts(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    web = TestServer(make_app(WebSettings(gateway_addr=f"127.0.0.1:{port}")))
    await web.start_server()
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            resp = await browser.get(web.make_url("/p/demo"), allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"] == "/signin?next=/p/demo"
            browser.cookie_jar.update_cookies({"arkive_token": "ark_bob"}, web.make_url("/"))
            resp = await browser.get(web.make_url("/p/demo"))
            text = await resp.text()
            assert resp.status == 403 and "&lt;i&gt;demo&lt;/i&gt; is not yours" in text
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        await web.close()
        await server.stop(None)


async def test_the_launcher_starts_the_dashboard(stack: Any) -> None:
    """`arkive up` (the session stack here) runs `python -m arkive_web` on ARKIVE_WEB_ADDR and shows its URL."""
    url = f"http://{stack.env['ARKIVE_WEB_ADDR']}/"
    assert any(line.startswith("web ") and url in line for line in stack.status_lines())
    async with ClientSession() as browser:
        resp = await browser.get(url)  # the start page lists the caller's projects: signed out, sign in first
        assert resp.status == 200 and resp.url.path == "/signin" and "Sign in" in await resp.text()
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_pages_of_fifty_with_links_that_keep_the_filters() -> None:
    request = make_mocked_request("GET", "/p/demo?type=model&page=2")
    assert on_page(request, list(range(120))) == list(range(50, 100))
    links = pager(request, 120)
    assert "page 2 of 3 · 120 in all" in links
    assert "href='/p/demo?type=model&amp;page=1'" in links and "href='/p/demo?type=model&amp;page=3'" in links
    assert on_page(make_mocked_request("GET", "/p/demo?page=x"), [1, 2]) == [1, 2]  # a bad number is page 1


async def test_ready_while_listening() -> None:
    service = WebService(WebSettings(addr="127.0.0.1:0", gateway_addr="127.0.0.1:1"))
    assert not await service.ready()
    await service.start()
    try:
        assert await service.ready() and service.port > 0
    finally:
        await service.shutdown()
        await service.shutdown()  # idempotent
    assert not await service.ready()
