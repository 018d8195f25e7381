"""The projects a caller can read, with their collection, version and byte counts.

`list_projects` is the one place that decides where they come from: the gateway's ListProjects
(`client.projects()`, the call behind `arkive projects`), which lists every project the caller may
read (all of them for a global admin) with its counts in one call. The caller's role on each comes
from WhoAmI (the Access the pages already hold).
"""

from __future__ import annotations

from dataclasses import dataclass

from arkive import AsyncClient

from .access import Access


@dataclass(frozen=True)
class ProjectSummary:
    name: str
    role: str
    collections: int
    versions: int
    total_bytes: int


def _role(access: Access, project: str) -> str:
    if access.auth_off:
        return ""
    role = access.roles.get(project, "")
    return role or ("admin (global)" if access.global_admin else "")


async def list_projects(client: AsyncClient, access: Access) -> list[ProjectSummary]:
    return [
        ProjectSummary(p.name, _role(access, p.name), p.collections, p.versions, p.total_bytes)
        for p in await client.projects()
    ]
