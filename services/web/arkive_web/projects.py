"""The projects a caller can read, with their collection and version counts.

`list_projects` is the one place that decides where the names come from. Today the gateway has no
call that lists projects, so they are the projects the caller holds a role on (WhoAmI); a global
admin (or a gateway with authentication off) may read projects they hold no role on, which the
start page lets them open by name. When the gateway offers ListProjects, only this function changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from arkive import AsyncClient
from arkive_common.errors import ArkiveError
from arkive_proto.v1 import artifact_service_pb2 as apb

from .access import Access

COUNT_PAGE = 1000  # collections counted per project (one ListArtifacts page); more shows as "1000+"
MAX_PROJECTS = 200  # projects counted on one start page


@dataclass(frozen=True)
class ProjectSummary:
    name: str
    role: str
    collections: int
    versions: int
    more: bool  # more collections than were counted
    error: str = ""  # why the counts are missing (e.g. the role was revoked a moment ago)


async def list_projects(client: AsyncClient, access: Access) -> tuple[list[ProjectSummary], bool]:
    """(projects, complete): complete is False when the caller may read projects not listed."""
    names = sorted(access.roles)[:MAX_PROJECTS]
    complete = not (access.global_admin or access.auth_off) and len(access.roles) <= MAX_PROJECTS
    summaries = await asyncio.gather(*(_summary(client, n, access.roles[n]) for n in names))
    return list(summaries), complete


async def _summary(client: AsyncClient, project: str, role: str) -> ProjectSummary:
    req = apb.ListArtifactsRequest(project=project, page_size=COUNT_PAGE)
    try:
        resp = await client._call_idempotent(client._artifacts.ListArtifacts, req)
    except ArkiveError as exc:
        return ProjectSummary(project, role, 0, 0, False, error=exc.message)
    versions = sum(int(c.version_count) for c in resp.artifacts)
    return ProjectSummary(project, role, len(resp.artifacts), versions, bool(resp.next_page_token))
