"""The dashboard's browser tests share one chromium (launched once per session) and one dashboard
process on the session stack's gateway; each test opens its own browser context (cookies of its own)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import pytest_asyncio
from web_support import HOSTILE, LONG, QUOTES, Catalog

import arkive
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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def catalog(stack: Any) -> Catalog:
    project = f"webr-{uuid.uuid4().hex[:8]}"
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as admin:
        data = await admin.log_dataset(pd.DataFrame({"x": [1, 2]}), "data", project, description=HOSTILE)
        config = {"note": HOSTILE, "quote": QUOTES, "lr": 0.1}
        async with await admin.run(project=project, name="train-1", job_type="train", config=config) as run:
            await run.use_artifact(data)
            meta = {"note": HOSTILE, "long": LONG}
            clf0 = await run.log_model(b"w0", "clf", metrics={"accuracy": 0.9}, metadata=meta, description=QUOTES)
        clf0 = await admin.set_aliases(clf0, add=["production"])
        await admin.set_ttl(clf0, timedelta(days=7))
        clf1 = await admin.log_model(b"w1", "clf", project, metrics={"accuracy": 0.5})
        suffix = uuid.uuid4().hex[:6]
        reader = await admin.create_token(f"reader-{suffix}", project=project, role="reader", kind="user")
        writer = await admin.create_token(f"writer-{suffix}", project=project, role="writer", kind="user")
    return Catalog(project, run.run_id, data, clf0, clf1, reader.token, writer.token)
