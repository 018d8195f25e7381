"""What the dashboard's tests share: hostile text, the catalogue fixture's record, signing in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import arkive

HOSTILE = "<script>alert(1)</script>"
QUOTES = 'it\'s "quoted" & <b>bold</b>'
LONG = "L" * 3000


@dataclass(frozen=True)
class Catalog:
    """A project of the web tests: a run that used data:v0 and logged clf:v0 (aliased production, a
    TTL, hostile text everywhere text may go) and clf:v1; a reader's and a writer's token."""

    project: str
    run_id: str
    data: arkive.ArtifactVersion
    clf0: arkive.ArtifactVersion
    clf1: arkive.ArtifactVersion
    reader: str
    writer: str


async def sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(base + "/signin")
    await page.fill("input[name=token]", token)
    await page.click("button:text-is('Sign in')")
    await page.wait_for_url(base + "/")
