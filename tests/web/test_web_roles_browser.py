"""The dashboard's writes and what each role sees, in a real browser (the session's chromium): an
admin edits tags, description and metadata and deletes and undeletes a version; a writer edits but
is offered no delete; a reader sees no edit control and a reader's forged POST is refused (403) with
nothing changed; the runs list, a run page, the search page and the projects list."""

from __future__ import annotations

import os
from typing import Any

import pytest
from arkive_core.errors import NotFound
from web_support import HOSTILE, Catalog, sign_in

import arkive


async def _page(chromium: Any, base: str, token: str) -> Any:
    context = await chromium.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
    await sign_in(page, base, token)
    return page


def _admin(stack: Any) -> arkive.AsyncClient:
    return arkive.AsyncClient(stack.gateway_addr, progress=False)


async def test_admin_edits_deletes_and_undeletes(stack: Any, chromium: Any, web_base: str, catalog: Catalog) -> None:
    page = await _page(chromium, web_base, os.environ["ARKIVE_API_KEY"])
    try:
        p, clf0 = catalog.project, catalog.clf0
        # the projects list (ListProjects): a global admin reads every project
        row = page.locator("tbody tr", has=page.locator(f"a:text-is('{p}')"))
        assert (await row.inner_text()).startswith(f"{p}\tadmin (global)\t2\t")
        await page.goto(f"{web_base}/v/{p}/clf/v0")
        # TTL and alias protection
        retention = await page.inner_text("p.retention")
        assert "TTL 7d (version): expires " in retention and "protected by alias production" in retention
        # tags, description (hostile) and metadata through the edit form
        await page.fill("input[name=add_tags]", "gold reviewed")
        await page.fill("textarea[name=description]", HOSTILE + " edited")
        await page.fill("textarea[name=metadata]", '{"owner": "<i>ml</i>", "metrics": {"f1": 0.7}}')
        await page.click("button:text-is('Save changes')")
        await page.wait_for_url(f"{web_base}/v/{p}/clf/v0")
        text = await page.inner_text("main")
        assert "gold, reviewed" in text and HOSTILE + " edited" in text and '"owner": "<i>ml</i>"' in text
        assert await page.locator("script").count() == 0 and await page.locator("main i").count() == 0
        async with _admin(stack) as admin:
            now = await admin.get_version(clf0.version_id)
        assert set(now.tags) == {"gold", "reviewed"} and now.description == HOSTILE + " edited"
        assert now.metadata["owner"] == "<i>ml</i>" and now.metadata["metrics"] == {"accuracy": 0.9, "f1": 0.7}
        # an unchanged description stays as it was when only tags change (the form sends what it showed)
        await page.fill("input[name=remove_tags]", "reviewed")
        await page.click("button:text-is('Save changes')")
        await page.wait_for_url(f"{web_base}/v/{p}/clf/v0")
        async with _admin(stack) as admin:
            now = await admin.get_version(clf0.version_id)
        assert now.tags == ("gold",) and now.description == HOSTILE + " edited"
        # bad metadata is a 400 page, nothing changes
        await page.fill("textarea[name=metadata]", "[1, 2]")
        async with page.expect_response(f"{web_base}/edit/{clf0.version_id}") as answer:
            await page.click("button:text-is('Save changes')")
        assert (await answer.value).status == 400 and "JSON object" in await page.inner_text("main")

        # delete v1, see it gone from the list, undelete it from the notice
        await page.goto(f"{web_base}/v/{p}/clf/v1")
        async with page.expect_response(f"{web_base}/delete/{catalog.clf1.version_id}") as answer:
            await page.click("button:text-is('Delete version')")
        assert (await answer.value).status == 303, await page.inner_text("main")
        await page.wait_for_url(f"{web_base}/p/{p}/clf?**")
        assert "Deleted " + f"{p}/clf:v1" in await page.inner_text(".notice")
        assert await page.locator("tbody a:text-is('v1')").count() == 0
        async with _admin(stack) as admin:
            with pytest.raises(NotFound):
                await admin.get_version(catalog.clf1.version_id)
        await page.click("button:text-is('Undelete')")
        await page.wait_for_url(f"{web_base}/v/{p}/clf/v1")
        async with _admin(stack) as admin:
            assert (await admin.get_version(f"{p}/clf:v1")).version_id == catalog.clf1.version_id
            await admin.delete(catalog.clf1)  # deleted elsewhere (the CLI, retention): undelete by number
        await page.goto(f"{web_base}/p/{p}/clf")
        await page.fill("input[name=selector]", "v1")
        await page.click("button:text-is('Undelete version')")
        await page.wait_for_url(f"{web_base}/v/{p}/clf/v1")
        # v0 holds production: the delete is refused and says why
        await page.goto(f"{web_base}/v/{p}/clf/v0")
        async with page.expect_response(f"{web_base}/delete/{clf0.version_id}") as answer:
            await page.click("button:text-is('Delete version')")
        assert (await answer.value).status == 409 and "production" in await page.inner_text("main")
    finally:
        await page.context.close()


async def test_reader_sees_no_controls_and_a_forged_post_changes_nothing(
    stack: Any, chromium: Any, web_base: str, catalog: Catalog
) -> None:
    page = await _page(chromium, web_base, catalog.reader)
    try:
        p, clf1 = catalog.project, catalog.clf1
        await page.goto(f"{web_base}/v/{p}/clf/v1")
        assert "reader-" in await page.inner_text("header .principal")
        assert await page.locator("main form").count() == 0  # no alias, edit or delete form
        assert await page.locator("main button").count() == 0
        csrf = await page.get_attribute("header input[name=csrf]", "value")  # a valid token of this session
        forged = {
            f"/edit/{clf1.version_id}": {"add_tags": "forged", "description": "forged", "metadata": '{"x": 1}'},
            f"/aliases/{clf1.version_id}": {"add": "forged"},
            f"/delete/{clf1.version_id}": {"delete_aliases": "1"},
            f"/p/{p}/clf/undelete": {"selector": "v1"},
        }
        for path, fields in forged.items():
            answer = await page.request.post(web_base + path, form={"csrf": csrf, **fields})
            assert answer.status == 403, (path, answer.status)
        async with _admin(stack) as admin:
            now = await admin.get_version(clf1.version_id)
        assert (now.tags, now.description, now.aliases) == (clf1.tags, clf1.description, clf1.aliases)
        assert now.metadata == clf1.metadata

        await page.goto(f"{web_base}/p/{p}/clf")
        assert await page.locator("main form[method=post]").count() == 0

        # the projects list: the reader's one project with its role and counts
        await page.goto(web_base + "/")
        row = page.locator("tbody tr", has=page.locator(f"a:text-is('{p}')"))
        cells = (await row.inner_text()).split("\t")
        assert cells[:4] == [p, "reader", "2", "3"] and cells[-1] == "runs · search"  # between them: bytes

        # runs list -> run page: config (hostile text as text), inputs and outputs as links
        await page.goto(f"{web_base}/runs/{p}")
        assert await page.locator("tbody tr").count() == 1
        await page.click("a:text-is('train-1')")
        await page.wait_for_url(f"{web_base}/run/{catalog.run_id}")
        text = await page.inner_text("main")
        assert HOSTILE in text and "& <b>bold</b>" in text and "finished" in text  # JSON escapes only the quotes
        assert await page.locator("script").count() == 0 and await page.locator("main b:text-is('bold')").count() == 0
        assert await page.locator("ul.refs a").all_inner_texts() == [f"{p}/data:v0", f"{p}/clf:v0"]
        assert await page.locator(f"svg.lineage a[href='/v/{p}/clf/v0']").count() == 1  # the producer edge
        await page.click(f"ul.refs a:text-is('{p}/data:v0')")
        await page.wait_for_url(f"{web_base}/v/{p}/data/v0")
        await page.click(f"svg.lineage a[href='/run/{catalog.run_id}']")  # the consumer edge, back
        await page.wait_for_url(f"{web_base}/run/{catalog.run_id}")

        # search: models with metrics.accuracy > 0.7, best first; then everything named d*
        await page.goto(f"{web_base}/search")
        await page.fill("input[name=project]", p)
        await page.fill("input[name=type]", "model")
        await page.fill("textarea[name=where]", "metrics.accuracy>0.7")
        await page.fill("input[name=order_by]", "-metadata.metrics.accuracy")
        await page.click("button:text-is('Search')")
        await page.wait_for_url(f"{web_base}/search?*")
        assert await page.locator("tbody tr").count() == 1
        first = await page.locator("tbody tr").first.inner_text()
        assert first.startswith("clf:v0\tmodel\tproduction") and first.endswith("0.9")
        await page.goto(f"{web_base}/search?project={p}&name=d*")
        assert [t.split("\t")[0] for t in await page.locator("tbody tr").all_inner_texts()] == ["data:v0"]
        await page.goto(f"{web_base}/search?project={p}&where=metrics.accuracy%3E0.95")
        assert "no matching versions" in await page.inner_text("main")
    finally:
        await page.context.close()


async def test_writer_edits_but_is_offered_no_delete(chromium: Any, web_base: str, catalog: Catalog) -> None:
    page = await _page(chromium, web_base, catalog.writer)
    try:
        await page.goto(f"{web_base}/v/{catalog.project}/data/v0")
        assert await page.locator("button:text-is('Save changes')").count() == 1
        assert await page.locator("button:text-is('Move aliases')").count() == 1
        assert await page.locator("button:text-is('Delete version')").count() == 0
        csrf = await page.get_attribute("header input[name=csrf]", "value")
        answer = await page.request.post(f"{web_base}/delete/{catalog.data.version_id}", form={"csrf": csrf})
        assert answer.status == 403
    finally:
        await page.context.close()
