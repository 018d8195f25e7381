"""Registry collections (collections of links): their links and unlinking, an AsyncClient feature.

    for link in await client.links("registry/model-zoo-resnet"):
        print(link.ref, "->", link.source_ref, link.aliases)
    await client.unlink("registry/model-zoo-resnet:v2")        # or ":production"

A registry collection's versions (`versions()`, `search()`, `arkive ls`) are its live links in its
own numbering, each with `linked_from` naming the source ref.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arkive_core.errors import InvalidArgument
from arkive_core.refs import parse_ref

from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc

from ._convert import to_datetime
from ._feature import Feature
from .version import ArtifactVersion

LINK_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """Link `link_version` of project/name: `version` is the source as it is in its own collection
    (None when it was deleted since; `version_id` is still its id)."""

    project: str
    name: str
    link_version: int
    version_id: str
    version: ArtifactVersion | None
    aliases: tuple[str, ...]
    linked_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.project}/{self.name}:v{self.link_version}"

    @property
    def source_ref(self) -> str:
        return self.version.ref if self.version is not None else self.version_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "link_version": self.link_version,
            "source_ref": self.source_ref,
            "version_id": self.version_id,
            "source_deleted": self.version is None,
            "aliases": list(self.aliases),
            "linked_at": self.linked_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class UnlinkResult:
    project: str
    name: str
    link_version: int
    version_id: str
    linked_from: str  # the source ref, "demo/clf:v3"
    aliases_removed: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.project}/{self.name}:v{self.link_version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "link_version": self.link_version,
            "version_id": self.version_id,
            "linked_from": self.linked_from,
            "aliases_removed": list(self.aliases_removed),
        }


class Registry(Feature):
    """AsyncClient's registry methods."""

    @property
    def _links_stub(self) -> cgrpc.CatalogServiceStub:
        return cgrpc.CatalogServiceStub(self._ch())

    async def links(self, collection: str) -> list[LinkInfo]:
        """The live and dangling links of a registry collection "[project/]name", newest first."""
        if ":" in collection:
            raise InvalidArgument(f"expected [project/]name without a version, got {collection!r}")
        r = parse_ref(collection, self.project)
        out: list[LinkInfo] = []
        async for page in self._pages(
            lambda tok: cpb.ListLinksRequest(project=r.project, name=r.name, page_size=LINK_PAGE_SIZE, page_token=tok),
            self._links_stub.ListLinks,
        ):
            for link in page.links:
                out.append(
                    LinkInfo(
                        project=r.project,
                        name=r.name,
                        link_version=int(link.link_version),
                        version_id=link.version_id,
                        version=self._version(link.version) if link.HasField("version") else None,
                        aliases=tuple(link.aliases),
                        linked_at=to_datetime(link.linked_at),
                    )
                )
        return out

    async def unlink(self, ref: str) -> UnlinkResult:
        """Removes one link: "registry/zoo:v2" (link number) or "registry/zoo:production" (an alias of
        the registry collection). The source version stays; the registry's aliases on it go with the
        link and its `latest` moves to the newest remaining link. Needs write on the registry's project."""
        r = parse_ref(ref, self.project)
        if r.version_id or ":" not in ref:  # never "the latest one" by omission
            raise InvalidArgument(f"expected project/name:vN or project/name:alias of a link, got {ref!r}")
        request = cpb.UnlinkVersionRequest(project=r.project, name=r.name, selector=r.selector)
        resp = await self._call(self._links_stub.UnlinkVersion, request)
        return UnlinkResult(
            r.project, r.name, int(resp.link_version), resp.version_id, resp.linked_from, tuple(resp.aliases_removed)
        )
