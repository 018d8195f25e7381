"""Composition root of the retention service."""

from __future__ import annotations

from arkive_common import api
from arkive_common.config import Settings
from arkive_common.projector import projector_runtime
from arkive_common.service import ServiceRuntime

from . import catalog


async def bootstrap(settings: Settings) -> ServiceRuntime:
    return projector_runtime(
        api.RETENTION,
        settings,
        migrations=catalog.MIGRATIONS,
        apply=catalog.apply,
        rebuild=catalog.rebuild,
        category="collection",
    )
