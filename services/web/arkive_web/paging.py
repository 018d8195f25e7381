"""One page of a list, straight from the gateway: the SDK's list helpers (versions(), runs(),
search()) read every page, which a collection of 10,000 versions cannot afford per request.

Each function makes exactly one RPC (the same one the CLI's list/search commands make) and returns
the items with the server's opaque cursor for the next page ("" on the last). The pages put that
cursor in the URL (?after=...), so paging is keyset paging end to end: page 200 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from arkive import ArtifactVersion, AsyncClient
from arkive.catalog import Catalog
from arkive.runs import RunInfo, run_from_proto
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import lineage_service_pb2 as lpb

T = TypeVar("T")
MAX_CURSOR = 2000  # a cursor longer than this is not one of the server's


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str


def cursor(value: str | None) -> str:
    text = (value or "").strip()
    return text if len(text) <= MAX_CURSOR and text.isprintable() else ""


async def versions_page(client: AsyncClient, project: str, name: str, after: str, size: int) -> Page[ArtifactVersion]:
    """Live versions of project/name, newest first (ListVersions)."""
    req = apb.ListVersionsRequest(project=project, name=name, page_size=size, page_token=after)
    resp = await client._call_idempotent(client._artifacts.ListVersions, req)
    return Page([client._version(v) for v in resp.versions], resp.next_page_token)


async def runs_page(client: AsyncClient, project: str, job_type: str, after: str, size: int) -> Page[RunInfo]:
    """Runs of a project, newest first (ListRuns)."""
    req = lpb.ListRunsRequest(project=project, job_type=job_type, page_size=size, page_token=after)
    resp = await client._call_idempotent(client._feature(Catalog)._lineage.ListRuns, req)
    return Page([run_from_proto(r) for r in resp.runs], resp.next_page_token)


async def search_page(
    client: AsyncClient,
    project: str,
    *,
    type: str,
    name: str,
    tags: Sequence[str],
    alias: str,
    where: Sequence[str],
    order_by: str,
    after: str,
    size: int,
) -> Page[ArtifactVersion]:
    """One page of SearchVersions, the request built by the SDK's own search() code (so the filters
    are checked and spelled exactly as `arkive search` sends them)."""
    catalog = client._feature(Catalog)
    req: Any = catalog._search_request(
        project, type or None, name or None, tags, alias or None, None, None, where, None, order_by or None, None, size
    )
    req.page_token = after
    resp = await client._call_idempotent(catalog._catalog.SearchVersions, req)
    return Page([client._version(v) for v in resp.versions], resp.next_page_token)
