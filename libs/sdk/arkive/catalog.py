"""The catalogue: metadata, tags and description after commit, search, registry links
(an AsyncClient feature; Client's blocking methods are generated from it).

    await client.update_version("demo/ds:raw_2023", metadata={"rows": 70000}, add_tags=["clean"])
    models = await client.search("demo", type="model", where=["metrics.accuracy>0.9"], order_by="-metrics.accuracy")
    await client.link("demo/resnet:v3", "registry/model-zoo-resnet", aliases=["production"])

Every change is an event on the server: the version's files and manifest digest never change.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arkive_core.errors import ArkiveError, InvalidArgument
from arkive_core.validation import (
    MAX_ALIASES,
    MAX_TAGS,
    check_alias,
    check_description,
    check_list,
    check_name,
    check_tag,
    check_type,
)

from arkive_proto.v1 import catalog_service_pb2 as cpb
from arkive_proto.v1 import catalog_service_pb2_grpc as cgrpc

from ._feature import Feature
from .artifact import metadata_json
from .runs import _timestamp
from .version import ArtifactVersion

SEARCH_PAGE_SIZE = 200  # per request; the server allows 1000
ALL_PROJECTS = "*"  # search(ALL_PROJECTS, ...): every project the caller may read
_ORDER_FIELDS = ("created_at", "version")
_PREDICATE_OPS = re.compile(r"(>=|<=|!=|=|<|>)")


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What link() did: `version` is the linked version as it is in its own collection; the link is
    `target_project/target_name:v<link_version>` and `aliases` are the target's aliases on it."""

    version: ArtifactVersion
    target_project: str
    target_name: str
    link_version: int
    aliases: tuple[str, ...]
    created: bool  # False: the version was already linked there (only aliases moved)

    @property
    def ref(self) -> str:
        return f"{self.target_project}/{self.target_name}:v{self.link_version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version.to_dict(),
            "target_project": self.target_project,
            "target_name": self.target_name,
            "link_version": self.link_version,
            "link_ref": self.ref,
            "aliases": list(self.aliases),
            "created": self.created,
        }


def split_target(target: str, default_project: str) -> tuple[str, str]:
    """ "registry/model-zoo-resnet" -> ("registry", "model-zoo-resnet"); a bare name stays in the default project."""
    if not isinstance(target, str) or ":" in target:
        raise InvalidArgument(f"expected a link target [project/]name without a version, got {target!r}")
    project, _, name = target.rpartition("/")
    if "/" in project:
        raise InvalidArgument(f"invalid link target {target!r}: expected project/name (one '/')")
    return check_name(project or default_project, "project"), check_name(name, "artifact name")


def order_by_text(order_by: str | None, descending: bool | None) -> str:
    """The server's order_by: "created_at", "version" or "metadata.<key>", '-' for descending.

    Accepts "-accuracy", "metrics.f1" (metadata keys without the "metadata." prefix) too.
    `descending` (if given) overrides a leading '-'. Default: newest first.
    """
    text = (order_by or "").strip()
    desc = text.startswith("-")
    text = text.lstrip("-+").strip()
    if not text:
        text, desc = "created_at", True
    if text not in _ORDER_FIELDS and not text.startswith("metadata."):
        text = f"metadata.{text}"
    if descending is not None:
        desc = descending
    return ("-" if desc else "") + text


def normalize_predicate(text: str) -> str:
    """Predicates are sent as typed ("accuracy>0.9", "metadata.metrics.f1 <= 0.5"); only checks the
    shape here (the server validates keys and values)."""
    if not isinstance(text, str) or not _PREDICATE_OPS.search(text):
        raise InvalidArgument(f"invalid metadata filter {text!r}: expected KEY OP VALUE, e.g. accuracy>0.9")
    return text.strip()


class Catalog(Feature):
    """Catalogue methods of AsyncClient (metadata after commit, search, registry links)."""

    @property
    def _catalog(self) -> cgrpc.CatalogServiceStub:
        return cgrpc.CatalogServiceStub(self._ch())

    async def update_version(
        self,
        ref: str | ArtifactVersion,
        *,
        metadata: dict[str, Any] | None = None,
        unset: Sequence[str] = (),
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
    ) -> ArtifactVersion:
        """Changes what is said about a committed version; its files and digest never change.

        metadata: keys to set, merged by key path (the same rule as `arkive meta set`):
            {"metrics": {"f1": 0.6}} and {"metrics.f1": 0.6} both set f1 inside metrics and keep
            its other keys; a value that is not an object replaces what is at its path. One path
            given twice ({"metrics": {"acc": 1}, "metrics.acc": 2}) is refused (InvalidArgument);
            setting inside a value that is not an object is refused (FailedPrecondition).
        unset: key paths to remove ("metrics.f1"; absent ones are ignored), applied before
            `metadata`, so unset=["metrics"], metadata={"metrics": {...}} replaces the object.
        add_tags / remove_tags: tags to add or remove.
        description: None leaves it; a string (even "") replaces it.
        Returns the version as it is now (a request that changes nothing records no event).
        A deleted version is refused with FailedPrecondition.
        """
        set_json = metadata_json(metadata) if metadata else ""
        add = check_list(list(add_tags), check_tag, "tags", MAX_TAGS)
        remove = check_list(list(remove_tags), check_tag, "tags", MAX_TAGS)
        keys = [str(k) for k in unset]
        for k in keys:
            if not k:
                raise InvalidArgument("an empty metadata key cannot be unset")
        request = cpb.UpdateVersionRequest(
            ref=self._ref(ref),
            set_metadata_json=set_json,
            unset_metadata_keys=keys,
            add_tags=add,
            remove_tags=remove,
        )
        if description is not None:
            request.description = check_description(description)
        resp = await self._call(self._catalog.UpdateVersion, request)
        return self._version(resp.version)

    async def set_metadata(self, ref: str | ArtifactVersion, **values: Any) -> ArtifactVersion:
        """update_version(ref, metadata=values): set_metadata(ref, accuracy=0.93, owner="ml")."""
        return await self.update_version(ref, metadata=values)

    def _search_request(
        self,
        project: str | None,
        type: str | None,
        name: str | None,
        tags: Sequence[str],
        alias: str | None,
        created_after: datetime | float | None,
        created_before: datetime | float | None,
        where: Sequence[str] | str,
        run_id: str | None,
        order_by: str | None,
        descending: bool | None,
        page_size: int,
    ) -> cpb.SearchVersionsRequest:
        if isinstance(where, str):
            where = [where]
        if isinstance(tags, str):
            tags = [tags]
        every = project == ALL_PROJECTS  # the projects the caller may read
        request = cpb.SearchVersionsRequest(
            project="" if every else check_name(project or self.project, "project"),
            all_projects=every,
            type=check_type(type) if type else "",
            name_pattern=name or "",
            tags=[check_tag(t) for t in tags],
            alias=check_alias(alias) if alias else "",
            metadata_filters=[normalize_predicate(w) for w in where],
            run_id=run_id or "",
            order_by=order_by_text(order_by, descending),
            page_size=page_size,
        )
        for field, value in (("created_after", created_after), ("created_before", created_before)):
            ts = _timestamp(value)
            if ts is not None:
                getattr(request, field).CopyFrom(ts)
        return request

    async def search_iter(
        self,
        project: str | None = None,
        *,
        type: str | None = None,
        name: str | None = None,
        tags: Sequence[str] = (),
        alias: str | None = None,
        created_after: datetime | float | None = None,
        created_before: datetime | float | None = None,
        where: Sequence[str] | str = (),
        run_id: str | None = None,
        order_by: str | None = None,
        descending: bool | None = None,
        limit: int | None = None,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> AsyncIterator[ArtifactVersion]:
        """Like search(), but yields versions as pages arrive (no limit by default; 0 also means
        none, as `arkive search --limit 0`)."""
        if limit is not None and limit < 0:
            raise InvalidArgument("limit must be 0 (all) or more")
        limit = limit or None
        page_size = max(1, min(page_size, 1000, limit or 1000))
        request = self._search_request(
            project,
            type,
            name,
            tags,
            alias,
            created_after,
            created_before,
            where,
            run_id,
            order_by,
            descending,
            page_size,
        )
        seen = 0
        token = ""
        while True:
            request.page_token = token
            page = await self._call(self._catalog.SearchVersions, request)
            for v in page.versions:
                yield self._version(v)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not page.next_page_token:
                return
            if page.next_page_token == token:
                raise ArkiveError("the server returned the same page token twice")
            token = page.next_page_token

    async def search(
        self,
        project: str | None = None,
        *,
        type: str | None = None,
        name: str | None = None,
        tags: Sequence[str] = (),
        alias: str | None = None,
        created_after: datetime | float | None = None,
        created_before: datetime | float | None = None,
        where: Sequence[str] | str = (),
        run_id: str | None = None,
        order_by: str | None = None,
        descending: bool | None = None,
        limit: int | None = 100,
    ) -> list[ArtifactVersion]:
        """Live versions of a project matching every given filter, sorted, at most `limit` (None or 0: all).

        project: default the client's; arkive.ALL_PROJECTS ("*") searches every project the caller
        may read (a global admin: all), never returning anything of another.

        type: artifact type; name: glob over the collection name ("res*", "clf-?");
        tags: versions carrying all of them; alias: versions that alias points at ("production");
        created_after / created_before: datetimes (or epoch seconds);
        where: metadata predicates "KEY OP VALUE", all must hold: "accuracy>0.9", "metrics.f1<=0.5",
        "framework=sklearn" (numbers compare numerically; a version without the key never matches);
        run_id: versions logged by that run;
        order_by: "created_at" (default, newest first), "version", or a metadata key ("metrics.accuracy",
        only versions with a number there); a leading '-' or descending=True sorts descending.
        Pages are fetched as needed.
        """
        return [
            v
            async for v in self.search_iter(
                project,
                type=type,
                name=name,
                tags=tags,
                alias=alias,
                created_after=created_after,
                created_before=created_before,
                where=where,
                run_id=run_id,
                order_by=order_by,
                descending=descending,
                limit=limit,
            )
        ]

    async def link(
        self, ref: str | ArtifactVersion, target: str, *, aliases: Sequence[str] = (), project: str | None = None
    ) -> LinkResult:
        """Links the version `ref` resolves to into the collection `target` ("registry/model-zoo-resnet")
        without copying bytes (W&B link_artifact). The target's `latest` follows the newest link;
        `aliases` ("production") move onto this link. Linking the same version again creates nothing
        and only moves the aliases. A target without a project is in `project` (default: the client's).
        """
        target_project, target_name = split_target(target, project or self.project)
        request = cpb.LinkVersionRequest(
            ref=self._ref(ref),
            target_project=target_project,
            target_name=target_name,
            aliases=check_list(list(aliases), check_alias, "aliases", MAX_ALIASES),
        )
        resp = await self._call(self._catalog.LinkVersion, request)
        return LinkResult(
            version=self._version(resp.version),
            target_project=resp.target_project,
            target_name=resp.target_name,
            link_version=int(resp.link_version),
            aliases=tuple(resp.aliases),
            created=resp.created,
        )
