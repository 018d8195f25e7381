"""The blocking flavour of deletes, TTLs, policies, GC and the storage report, for Client (see retention.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from ._host import SyncHost
from ._ttl import VersionTtl
from .retention import (
    DEFAULT_GC_GRACE,
    ApplyResult,
    DeleteResult,
    GcResult,
    PolicyList,
    RetentionPlan,
    RetentionPolicy,
    StorageReport,
    UndeleteResult,
)
from .version import ArtifactVersion


class SyncRetentionMixin(SyncHost):
    """Retention methods of Client."""

    def delete(self, ref: str | ArtifactVersion, *, delete_aliases: bool = False, purge: bool = False) -> DeleteResult:
        """Soft-deletes a version (see AsyncClient.delete); refused while it holds an alias other than
        latest unless delete_aliases=True; purge=True is irrevocable."""
        return self._run(self._aclient.delete(ref, delete_aliases=delete_aliases, purge=purge))

    def delete_collection(
        self, name: str, project: str | None = None, *, delete_aliases: bool = False, purge: bool = False
    ) -> DeleteResult:
        """Soft-deletes every version of "[project/]name"."""
        return self._run(self._aclient.delete_collection(name, project, delete_aliases=delete_aliases, purge=purge))

    def undelete(self, ref: str | ArtifactVersion) -> UndeleteResult:
        """Restores a deleted version within the grace window."""
        return self._run(self._aclient.undelete(ref))

    def undelete_collection(self, name: str, project: str | None = None) -> UndeleteResult:
        """Restores every version of "[project/]name" deleted within the grace window."""
        return self._run(self._aclient.undelete_collection(name, project))

    def set_ttl(self, ref: str | ArtifactVersion, ttl: timedelta | Literal["inherit"] | None) -> None:
        """A version's TTL: a timedelta, None (never expire) or arkive.INHERIT (the project default)."""
        self._run(self._aclient.set_ttl(ref, ttl))

    def set_default_ttl(self, project: str | None, ttl: timedelta | None, type: str | None = None) -> None:
        """The default TTL of a project's versions (of one type); ttl=None removes it."""
        self._run(self._aclient.set_default_ttl(project, ttl, type))

    def put_policy(
        self,
        name: str,
        project: str | None = None,
        *,
        type: str | None = None,
        name_pattern: str = "",
        keep_last: int = 0,
        keep_best: int = 0,
        metric: str = "",
        mode: Literal["max", "min"] = "max",
        max_age: timedelta | None = None,
        manual: bool = False,
    ) -> RetentionPolicy:
        """Creates or replaces a retention policy (see AsyncClient.put_policy)."""
        return self._run(
            self._aclient.put_policy(
                name,
                project,
                type=type,
                name_pattern=name_pattern,
                keep_last=keep_last,
                keep_best=keep_best,
                metric=metric,
                mode=mode,
                max_age=max_age,
                manual=manual,
            )
        )

    def remove_policy(self, name: str, project: str | None = None) -> None:
        self._run(self._aclient.remove_policy(name, project))

    def policies(self, project: str | None = None) -> PolicyList:
        """The retention policies and default TTLs of a project."""
        return self._run(self._aclient.policies(project))

    def retention_plan(
        self, project: str | None = None, *, as_of: datetime | float | None = None, limit: int = 0
    ) -> RetentionPlan:
        """Dry run: what would be deleted now (or at as_of), and why."""
        return self._run(self._aclient.retention_plan(project, as_of=as_of, limit=limit))

    def retention_apply(self, project: str | None = None, *, as_of: datetime | float | None = None) -> ApplyResult:
        """Deletes what retention_plan lists (soft deletes)."""
        return self._run(self._aclient.retention_apply(project, as_of=as_of))

    def collect_garbage(
        self,
        grace: timedelta = DEFAULT_GC_GRACE,
        dry_run: bool = False,
        *,
        digests: Sequence[str] = (),
        skip_staging: bool = False,
        repack: bool = False,
        repack_read_grace: timedelta | None = None,
    ) -> GcResult:
        """Mark and sweep of unreferenced blobs in every project (see AsyncClient.collect_garbage)."""
        return self._run(
            self._aclient.collect_garbage(
                grace,
                dry_run,
                digests=digests,
                skip_staging=skip_staging,
                repack=repack,
                repack_read_grace=repack_read_grace,
            )
        )

    def storage(self, project: str | None = None) -> StorageReport:
        """Bytes stored and referenced per collection (one project, or all), and what GC would free."""
        return self._run(self._aclient.storage(project))

    def ttl(self, ref: str | ArtifactVersion) -> VersionTtl:
        """The TTL in force for a version and when it expires (see AsyncClient.ttl)."""
        return self._run(self._aclient.ttl(ref))
