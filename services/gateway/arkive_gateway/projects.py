"""Calls that span projects (ListProjects, SearchVersions with all_projects): the projects the
caller may read, from the token record the auth interceptor left for the handler. A project the
caller may not read is never asked about, so its name cannot come back."""

from __future__ import annotations

from arkive_core.tokens import Role

from arkive_common import api_catalog as ac
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import catalog_service_pb2 as pb

from .auth_interceptor import CURRENT


def readable_projects() -> list[str] | None:
    """The caller's readable projects; None for every project (a global admin, or ARKIVE_AUTH=off)."""
    record = CURRENT.get()
    if record is None or record.global_admin:
        return None
    return sorted(p for p, role in record.grants.items() if Role.parse(role) >= Role.READER)


async def list_projects(rpc: RpcClient) -> pb.ListProjectsResponse:
    reply = await rpc.call(INGEST.list_projects, ac.ListProjects(readable_projects()))
    return pb.ListProjectsResponse(
        projects=[
            pb.ProjectSummary(name=p.name, collections=p.collections, versions=p.versions, total_bytes=p.total_bytes)
            for p in reply.projects
        ]
    )
