"""The projects the caller may read, with what they hold (`arkive projects`), an AsyncClient feature.

    for p in client.projects():
        print(p.name, p.collections, p.versions, p.total_bytes)

Search across them: client.search(arkive.ALL_PROJECTS, ...) (`arkive search --all-projects`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc

from ._feature import Feature


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    name: str
    collections: int  # with a live version or link
    versions: int  # live versions (a registry's links count as its versions)
    total_bytes: int  # of the live versions logged in the project

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Projects(Feature):
    """AsyncClient's projects()."""

    async def projects(self) -> list[ProjectInfo]:
        """The projects the caller may read (every project for a global admin), by name."""
        resp = await self._call(cgrpc.CatalogServiceStub(self._ch()).ListProjects, cpb.ListProjectsRequest())
        return [ProjectInfo(p.name, int(p.collections), int(p.versions), int(p.total_bytes)) for p in resp.projects]
