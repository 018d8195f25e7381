"""arkive: versioned artifacts for ML pipelines.

import arkive
client = arkive.Client()
art = arkive.Artifact("mnist", type="dataset", metadata={"rows": 70000})
art.add_dir("data/")
version = client.log_artifact(art, project="demo", aliases=["best"])
path = client.use_artifact("demo/mnist:best").download("restored/")

Distributed (many workers, one version):
client.upsert_artifact(shard, project="demo", distributed_id="run-42")   # in every worker
version = client.finish_artifact("mnist", project="demo", distributed_id="run-42")  # once

Names are imported on first use (PEP 562): `import arkive` and the CLI stay fast, and a
program pays only for the parts it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY: dict[str, str] = {
    "ALL_PROJECTS": ".catalog",
    "AliasTarget": "._aliases",
    "AlreadyExists": "arkive_core.errors",
    "ApplyResult": ".retention",
    "ArkiveError": "arkive_core.errors",
    "Artifact": ".artifact",
    "ArtifactCollection": ".version",
    "ArtifactVersion": ".version",
    "AsyncArtifactVersion": ".version",
    "AsyncClient": ".aclient",
    "AsyncRun": ".runs",
    "BlobStats": "._blob_stats",
    "cache_cleanup": ".engine.cache",
    "cache_info": ".engine.cache",
    "CacheInfo": ".engine.cache",
    "CleanupResult": ".engine.cache",
    "Client": ".client",
    "Code": "arkive_core.errors",
    "CollectionStorage": ".retention",
    "Conflict": "arkive_core.errors",
    "ConsumerCheck": "._consumers",
    "DeadLetter": "._consumers",
    "DeleteResult": ".retention",
    "DownloadResult": ".version",
    "Draft": ".version",
    "ExternalArtifact": ".step",
    "FailedPrecondition": "arkive_core.errors",
    "FileChange": "._diff",
    "FileInfo": ".version",
    "GcResult": ".retention",
    "INHERIT": ".retention",
    "InvalidArgument": "arkive_core.errors",
    "LineageEdge": "._lineage_export",
    "LineageGraph": "._lineage_export",
    "LineageNode": "._lineage_export",
    "LinkInfo": "._registry",
    "LinkResult": ".catalog",
    "ProjectInfo": "._projects",
    "ProtectedVersion": ".retention",
    "UnlinkResult": "._registry",
    "Materializer": ".materializers",
    "MetadataDiff": "._diff",
    "NotFound": "arkive_core.errors",
    "PlannedDeletion": ".retention",
    "PolicyList": ".retention",
    "Ref": ".step",
    "register_materializer": ".materializers",
    "RetentionPlan": ".retention",
    "RetentionPolicy": ".retention",
    "Run": ".run",
    "RunInfo": ".runs",
    "step": ".step",
    "StorageReport": ".retention",
    "Unavailable": "arkive_core.errors",
    "UndeleteResult": ".retention",
    "UpsertResult": ".version",
    "VerifyResult": "._checkout",
    "VersionDiff": "._diff",
    "VersionTtl": "._ttl",
}
__all__ = [
    "ALL_PROJECTS",
    "INHERIT",
    "AliasTarget",
    "AlreadyExists",
    "ApplyResult",
    "ArkiveError",
    "Artifact",
    "ArtifactCollection",
    "ArtifactVersion",
    "AsyncArtifactVersion",
    "AsyncClient",
    "AsyncRun",
    "BlobStats",
    "CacheInfo",
    "CleanupResult",
    "Client",
    "Code",
    "CollectionStorage",
    "Conflict",
    "ConsumerCheck",
    "DeadLetter",
    "DeleteResult",
    "DownloadResult",
    "Draft",
    "ExternalArtifact",
    "FailedPrecondition",
    "FileChange",
    "FileInfo",
    "GcResult",
    "InvalidArgument",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LinkInfo",
    "LinkResult",
    "Materializer",
    "MetadataDiff",
    "NotFound",
    "PlannedDeletion",
    "PolicyList",
    "ProjectInfo",
    "ProtectedVersion",
    "Ref",
    "RetentionPlan",
    "RetentionPolicy",
    "Run",
    "RunInfo",
    "StorageReport",
    "Unavailable",
    "UndeleteResult",
    "UnlinkResult",
    "UpsertResult",
    "VerifyResult",
    "VersionDiff",
    "VersionTtl",
    "cache_cleanup",
    "cache_info",
    "register_materializer",
    "step",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = importlib.import_module(module, __name__)
    value = getattr(home, name)
    globals()[name] = value  # the next lookup is an ordinary one
    short = module.removeprefix(".")
    if _LAZY.get(short) == module:
        # Importing the submodule arkive.step set the attribute `step` to the module, hiding the
        # function of that name (`arkive.Ref` first, then `@arkive.step`): put the function back.
        globals()[short] = getattr(home, short)
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


if TYPE_CHECKING:  # what editors and type checkers see
    from arkive_core.errors import (
        AlreadyExists,
        ArkiveError,
        Code,
        Conflict,
        FailedPrecondition,
        InvalidArgument,
        NotFound,
        Unavailable,
    )

    from ._aliases import AliasTarget
    from ._blob_stats import BlobStats
    from ._checkout import VerifyResult
    from ._consumers import ConsumerCheck, DeadLetter
    from ._diff import FileChange, MetadataDiff, VersionDiff
    from ._lineage_export import LineageEdge, LineageGraph, LineageNode
    from ._projects import ProjectInfo
    from ._registry import LinkInfo, UnlinkResult
    from ._ttl import VersionTtl
    from .aclient import AsyncClient
    from .artifact import Artifact
    from .catalog import ALL_PROJECTS, LinkResult
    from .client import Client
    from .engine.cache import CacheInfo, CleanupResult, cache_cleanup, cache_info
    from .materializers import Materializer, register_materializer
    from .retention import (
        INHERIT,
        ApplyResult,
        CollectionStorage,
        DeleteResult,
        GcResult,
        PlannedDeletion,
        PolicyList,
        ProtectedVersion,
        RetentionPlan,
        RetentionPolicy,
        StorageReport,
        UndeleteResult,
    )
    from .run import Run
    from .runs import AsyncRun, RunInfo
    from .step import ExternalArtifact, Ref, step
    from .version import (
        ArtifactCollection,
        ArtifactVersion,
        AsyncArtifactVersion,
        DownloadResult,
        Draft,
        FileInfo,
        UpsertResult,
    )
