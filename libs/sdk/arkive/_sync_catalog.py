"""The blocking flavour of the catalogue (metadata after commit, search, links), for Client (see catalog.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Sequence
from datetime import datetime
from typing import Any

from ._host import SyncHost
from .catalog import SEARCH_PAGE_SIZE, LinkResult
from .version import ArtifactVersion


class SyncCatalogMixin(SyncHost):
    """Catalogue methods of Client."""

    def update_version(
        self,
        ref: str | ArtifactVersion,
        *,
        metadata: dict[str, Any] | None = None,
        unset: Sequence[str] = (),
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
    ) -> ArtifactVersion:
        """Sets (merged by key path) and unsets metadata keys, adds/removes tags, replaces the
        description (see AsyncClient.update_version); the files and digest never change."""
        return self._run(
            self._aclient.update_version(
                ref, metadata=metadata, unset=unset, add_tags=add_tags, remove_tags=remove_tags, description=description
            )
        )

    def set_metadata(self, ref: str | ArtifactVersion, **values: Any) -> ArtifactVersion:
        """update_version(ref, metadata=values)."""
        return self.update_version(ref, metadata=values)

    def search(
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
        """Versions matching every filter, sorted, at most `limit` (see AsyncClient.search)."""
        return self._run(
            self._aclient.search(
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
        )

    def search_iter(
        self, project: str | None = None, *, page_size: int = SEARCH_PAGE_SIZE, **filters: Any
    ) -> Iterator[ArtifactVersion]:
        """Like search() without a limit by default, fetching pages lazily."""
        from .client import _anext

        agen = self._aclient.search_iter(project, page_size=page_size, **filters)
        try:
            while True:
                try:
                    yield self._run(_anext(agen))
                except StopAsyncIteration:
                    return
        finally:
            if self._finalizer.alive and isinstance(agen, AsyncGenerator):
                self._run(agen.aclose())

    def link(
        self, ref: str | ArtifactVersion, target: str, *, aliases: Sequence[str] = (), project: str | None = None
    ) -> LinkResult:
        """Links a version into "registry/collection" without copying bytes (see AsyncClient.link)."""
        return self._run(self._aclient.link(ref, target, aliases=aliases, project=project))
