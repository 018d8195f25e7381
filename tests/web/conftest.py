"""The dashboard's browser tests share one chromium (launched once per session) and one dashboard
process on the session stack's gateway; each test opens its own browser context (cookies of its own)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from arkive_web.app import WebService, WebSettings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip("no chromium at /usr/bin/chromium (make test installs it with apt-get)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def web_base(stack: Any) -> AsyncIterator[str]:
    """http://127.0.0.1:PORT of a dashboard on the session stack's gateway."""
    web = WebService(WebSettings(addr="127.0.0.1:0", gateway_addr=stack.gateway_addr))
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        await web.shutdown()


async def sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(base + "/signin")
    await page.fill("input[name=token]", token)
    await page.click("button:text-is('Sign in')")
    await page.wait_for_url(base + "/")
