"""Composition root of the lineage service."""

from __future__ import annotations

from arkive_common import api
from arkive_common.config import Settings
from arkive_common.projector import projector_runtime
from arkive_common.service import ServiceRuntime

from . import graph


async def bootstrap(settings: Settings) -> ServiceRuntime:
    return projector_runtime(
        api.LINEAGE,
        settings,
        migrations=graph.MIGRATIONS,
        apply=graph.apply,
        rebuild=graph.rebuild,
        category="collection",
    )
