"""Server-side paging: the versions page and the search page ask the gateway for one page by the
server's cursor and link the next one with it, never reading a whole collection (a recording
gateway of 10,000 versions answers; the real 10,000-version timing is benchmarks/web_bench.py)."""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from yarl import URL

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
from arkive_proto.v1 import auth_service_pb2 as aupb
from arkive_proto.v1 import auth_service_pb2_grpc as augrpc
from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc
from arkive_proto.v1 import types_pb2
from arkive_web.app import WebSettings, make_app

TOTAL = 10_000


def _version(n: int) -> types_pb2.Version:
    v = types_pb2.Version(version_id=f"{n:032x}", project="p", name="big", type="model", version=n)
    v.metadata_json = '{"accuracy": %s}' % (n / TOTAL)
    v.created_at.FromSeconds(1_700_000_000 + n)
    return v


class Gateway(agrpc.ArtifactServiceServicer, cgrpc.CatalogServiceServicer, augrpc.AuthServiceServicer):
    """Versions newest first, `page_size` a page, the cursor the last version number shown (as ingest's)."""

    def __init__(self) -> None:
        self.list_calls: list[tuple[int, str]] = []
        self.search_calls: list[tuple[int, str]] = []

    async def WhoAmI(self, request: Any, context: Any) -> Any:
        return aupb.WhoAmIResponse(principal_id="ann", kind="user", roles={"p": "reader"})

    async def ListVersions(self, request: Any, context: Any) -> Any:
        self.list_calls.append((request.page_size, request.page_token))
        top = int(request.page_token) if request.page_token else TOTAL
        numbers = range(top - 1, max(-1, top - 1 - request.page_size), -1)
        more = numbers[-1] > 0
        return apb.ListVersionsResponse(
            versions=[_version(n) for n in numbers], next_page_token=str(numbers[-1]) if more else ""
        )

    async def SearchVersions(self, request: Any, context: Any) -> Any:
        """A rare filter: a short page (3 matches) with a cursor, then the rest."""
        self.search_calls.append((request.page_size, request.page_token))
        if not request.page_token:
            return cpb.SearchVersionsResponse(versions=[_version(n) for n in (9999, 9998, 9997)], next_page_token="c1")
        found = [_version(n) for n in range(9996, 9996 - request.page_size, -1)]
        return cpb.SearchVersionsResponse(versions=found, next_page_token="c2")


async def test_versions_and_search_are_paged_by_the_servers_cursor() -> None:
    server, gateway = grpc.aio.server(), Gateway()
    agrpc.add_ArtifactServiceServicer_to_server(gateway, server)
    cgrpc.add_CatalogServiceServicer_to_server(gateway, server)
    augrpc.add_AuthServiceServicer_to_server(gateway, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    web = TestServer(make_app(WebSettings(gateway_addr=f"127.0.0.1:{port}")))
    await web.start_server()
    try:
        jar = CookieJar(unsafe=True)
        jar.update_cookies({"arkive_token": "ark_ann"}, URL(str(web.make_url("/"))))
        async with ClientSession(cookie_jar=jar) as browser:
            html = await (await browser.get(web.make_url("/p/p/big"))).text()
            assert gateway.list_calls == [(50, "")]  # one page asked for, not 10,000 versions
            assert ">v9999<" in html and ">v9950<" in html and ">v9949<" not in html
            assert "href='/p/p/big?after=9950'>older versions" in html and "first page" not in html
            html = await (await browser.get(web.make_url("/p/p/big?after=9950"))).text()
            assert gateway.list_calls[-1] == (50, "9950") and ">v9949<" in html and ">v9900<" in html
            assert "href='/p/p/big'>⇤ first page" in html and "after=9900" in html
            # a reader: no edit form anywhere on the list
            assert "<form method='post'" not in html.split("</header>")[1]

            html = await (await browser.get(web.make_url("/search?project=p&where=accuracy%3E0.1"))).text()
            # the short first page is topped up from the next one, up to 50 rows
            assert gateway.search_calls == [(50, ""), (47, "c1")]
            assert html.count("<tr><td><a href='/v/p/big/") == 50
            assert "search?project=p&amp;where=accuracy%3E0.1&amp;after=c2" in html
    finally:
        await web.close()
        await server.stop(None)
