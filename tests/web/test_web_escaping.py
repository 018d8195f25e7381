"""Hostile text is escaped on every page: descriptions, metadata, run configs and the visitor's own
query parameters (echoed in forms and error messages) never reach the HTML as markup. Reads the raw
HTML the dashboard sends (no browser needed to see a tag that should not be there)."""

from __future__ import annotations

import os
from urllib.parse import quote

from aiohttp import ClientSession, CookieJar
from web_support import HOSTILE, LONG, Catalog
from yarl import URL

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_hostile_text_is_escaped_on_every_page(web_base: str, catalog: Catalog) -> None:
    p, h = catalog.project, quote(HOSTILE, safe="")
    shows_hostile = [  # pages whose data holds the hostile text: shown, escaped
        f"/v/{p}/clf/v0",
        f"/v/{p}/data/v0",
        f"/run/{catalog.run_id}",
        f"/compare?a={p}/clf:v0&b={p}/data:v0",
        f"/p/{p}?name={h}",  # the filter echoed in its input
        f"/runs/{p}?job_type={h}",
    ]
    refusals = [  # the visitor's hostile input in an error message, escaped
        f"/search?project={h}",
        f"/search?project={p}&tags={h}",
        f"/search?project={p}&where={h}",
        f"/search?project={p}&alias=x&order_by={h}",  # the form again, with the refusal
        f"/v/{p}/clf/{h}",
        f"/compare?a={h}&b={p}/clf:v0",
        f"/p/{p}/clf?after={h}",
    ]
    plain = ["/", f"/p/{p}", f"/p/{p}/clf", f"/runs/{p}", f"/search?project={p}"]
    jar = CookieJar(unsafe=True)
    jar.update_cookies({"arkive_token": os.environ["ARKIVE_API_KEY"]}, URL(web_base))
    async with ClientSession(cookie_jar=jar) as browser:
        for path in shows_hostile + refusals + plain:
            resp = await browser.get(web_base + path)
            html = await resp.text()
            assert "<script" not in html.lower(), path
            assert "<b>bold" not in html, path
            if path in shows_hostile:
                assert resp.status == 200 and ESCAPED in html, path
            if path in refusals:
                assert 400 <= resp.status < 500 and ESCAPED in html, (path, resp.status, html[-400:])
        version = await (await browser.get(f"{web_base}/v/{p}/clf/v0")).text()
        assert LONG in version  # a very long value is shown whole, as text
