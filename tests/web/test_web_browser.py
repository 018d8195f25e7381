"""The web dashboard in a real browser (Debian chromium driven by playwright) against the session
stack's gateway: a dataset and a plot logged through the SDK are browsed, previewed, followed
through the lineage graph, compared, and hostile text renders as text (no script runs)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

import arkive

HOSTILE = "<script>alert(1)</script>"
QUOTES = 'it\'s "quoted" & <b>bold</b>'
LONG = "L" * 3000
ODD_PATH = "docs/<img src=x onerror=alert(1)> \"q\" 'a' ?#%20 .svg"  # every character a URL or HTML may trip on
SVG = (
    b"<svg xmlns='http://www.w3.org/2000/svg' width='120' height='60'><rect width='120' height='60' fill='#3a7'/></svg>"
)


def session_token() -> str:
    """The token this session's tests send where the gateway checks tokens (ARKIVE_API_KEY or the
    credentials file); any well-formed token where it does not yet."""
    try:
        from arkive_core.credentials import api_key  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return os.environ.get("ARKIVE_API_KEY") or "ark_" + "t" * 40
    return api_key() or "ark_" + "t" * 40


async def test_dashboard_in_a_browser(stack: Any, chromium: Any, web_base: str, tmp_path: Path) -> None:
    project = f"web-{uuid.uuid4().hex[:8]}"
    plot_file = tmp_path / "roc.svg"
    plot_file.write_bytes(SVG)
    report_file = tmp_path / "report.html"  # runs only inside its sandboxed frame, which has no alerts
    report_file.write_text("<html><body><h1>report</h1><script>alert('from the frame')</script></body></html>")
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        df0 = pd.DataFrame({HOSTILE: [QUOTES, "plain"], "age": [31, 47]})
        meta = {"note": HOSTILE, "quote": QUOTES, "long": LONG}
        async with await client.run(project=project, job_type="evaluate") as run:
            ds0 = await run.use_artifact(
                await client.log_dataset(df0, "patients", project, description=HOSTILE, metadata=meta)
            )
            plot = await run.log_plot(plot_file, "roc", title=HOSTILE)
            await run.log_plot(report_file, "report")
            await run.log_model(b"weights", "clf", metrics={"accuracy": 0.93, "f1": 0.875})
        ds1 = await client.log_dataset(df0.assign(age=[32, 48]), "patients", project, metadata={"note": "changed"})
        odd = arkive.Artifact("odd", type="notes")
        odd.add_file(str(plot_file), name=ODD_PATH)
        await client.log_artifact(odd, project=project)
    assert (ds0.version, ds1.version, plot.version) == (0, 1, 0)

    base = web_base
    dialogs: list[str] = []
    context = await chromium.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = await context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # sign in first (the token every call of this browser then carries); a POST without the
        # CSRF token is refused
        refused = await page.request.post(base + "/signout", form={"x": "1"})
        assert refused.status == 403
        await page.goto(base + "/signin")
        await page.fill("input[name=token]", session_token())
        await page.click("button:text-is('Sign in')")
        await page.wait_for_url(base + "/")
        assert "signed in" in await page.inner_text("header")
        cookie = next(c for c in await page.context.cookies() if c["name"] == "arkive_token")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # start page -> project -> collection -> version
        response = await page.goto(base + "/")
        assert response is not None and response.ok
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        await page.fill("input[name=project]", project)
        await page.click("button:text-is('Open')")
        await page.wait_for_url(f"{base}/p/{project}")
        await page.fill("input[name=name]", "PAT")
        await page.fill("input[name=type]", "dataset")
        await page.click("button:text-is('Filter')")
        await page.wait_for_url(f"{base}/p/{project}?*")
        assert await page.locator("tbody tr").all_inner_texts() == ["patients\tdataset\t2"]
        await page.click("a:text-is('patients')")
        await page.wait_for_url(f"{base}/p/{project}/patients")
        assert await page.locator("tbody tr").count() == 2
        await page.click("a:text-is('v0')")
        await page.wait_for_url(f"{base}/v/{project}/patients/v0")
        await page.screenshot(path=str(tmp_path / "version.png"), full_page=True)

        # hostile values are text: the page shows them literally, there is no script element
        text = await page.inner_text("main")
        assert HOSTILE in text and QUOTES in text and LONG in text
        assert await page.locator("script").count() == 0
        assert await page.locator("main b:text-is('bold')").count() == 0  # the <b> inside QUOTES stayed text
        # the dataset's preview table and column statistics
        preview = page.locator("h2:text-is('Preview') + table")
        assert await preview.locator("th").all_inner_texts() == [HOSTILE, "age"]
        assert await preview.locator("tbody tr").count() == 2
        assert "47" in await preview.inner_text()
        assert await page.locator("h2:text-is('Column statistics') + table tbody tr").count() == 2

        # a file downloads through the SDK, byte for byte
        async with page.expect_download() as dl:
            await page.click("a:text-is('data.parquet')")
        saved = tmp_path / "data.parquet"
        await (await dl.value).save_as(saved)
        assert pd.read_parquet(saved).equals(pd.read_parquet(saved))  # a readable Parquet file
        assert saved.stat().st_size == next(f for f in [f async for f in _files(stack, ds0)]).size

        # lineage: dataset v0 -> run -> plot; follow the edge to the plot's page
        await page.click(f"svg.lineage a[href='/v/{project}/roc/v0']")
        await page.wait_for_url(f"{base}/v/{project}/roc/v0")
        img = page.locator("img.plot")
        await img.wait_for()
        assert await img.evaluate("i => i.complete && i.naturalWidth") == 120
        await page.screenshot(path=str(tmp_path / "plot.png"), full_page=True)
        served = await page.request.get(base + (await img.get_attribute("src")))
        assert served.headers["content-type"] == "image/svg+xml" and await served.body() == SVG
        assert "sandbox" in served.headers["content-security-policy"]

        # a model's metrics; an HTML plot in a sandboxed frame
        await page.goto(f"{base}/v/{project}/clf/v0")
        metrics = page.locator("h2:text-is('Metrics') + table")
        assert await metrics.locator("tbody tr").all_inner_texts() == ["accuracy\t0.93", "f1\t0.875"]
        await page.goto(f"{base}/v/{project}/report/v0")
        frame = page.locator("iframe.plot")
        assert await frame.get_attribute("sandbox") == "allow-scripts"
        assert await page.frame_locator("iframe.plot").locator("h1").inner_text() == "report"

        # a file name full of markup and URL syntax is listed as text and downloads by its link
        await page.goto(f"{base}/v/{project}/odd/v0")
        assert ODD_PATH in await page.locator("main table").last.inner_text()
        assert await page.locator("main img:not(.plot)").count() == 0
        async with page.expect_download() as dl:
            await page.click("main table >> nth=-1 >> a")
        odd_saved = tmp_path / "odd.svg"
        await (await dl.value).save_as(odd_saved)
        assert odd_saved.read_bytes() == SVG

        # compare v0 with v1: the Parquet file changed, and so did the metadata
        await page.goto(f"{base}/p/{project}/patients")
        await page.click("text=compare v0 with v1")
        await page.wait_for_url(f"{base}/compare?*")
        text = await page.inner_text("main")
        assert "changed\tdata.parquet" in text and "note" in text and "changed" in text
        assert HOSTILE in text  # the old note, as text
        await page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)

        # a writer moves an alias with the version page's form
        await page.goto(f"{base}/v/{project}/patients/v0")
        await page.fill("input[name=add]", "production")
        await page.click("button:text-is('Move aliases')")
        await page.wait_for_url(f"{base}/v/{project}/patients/v0")
        assert "production" in await page.locator(".chip").all_inner_texts()
        await page.click("button:text-is('Sign out')")  # a form with the session's CSRF token
        await page.wait_for_url(base + "/signin?next=/")  # signed out, the start page asks for a token
        assert "arkive_token" not in [c["name"] for c in await page.context.cookies()]
        assert await page.locator("header a:text-is('Sign in')").count() == 1
    finally:
        await context.close()
    assert dialogs == []


async def _files(stack: Any, version: arkive.ArtifactVersion):
    async with arkive.AsyncClient(stack.gateway_addr, progress=False) as client:
        async for f in client.files(version.version_id):
            yield f
