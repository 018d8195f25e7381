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
"""

from arkive_common.errors import (
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
from ._cache import CacheInfo, CleanupResult, cache_cleanup, cache_info
from ._checkout import VerifyResult
from ._consumers import ConsumerCheck, DeadLetter
from ._diff import FileChange, MetadataDiff, VersionDiff
from ._lineage_export import LineageEdge, LineageGraph, LineageNode
from ._sync_runs import Run
from ._ttl import VersionTtl
from .aclient import AsyncClient
from .artifact import Artifact
from .catalog import LinkResult
from .client import Client
from .materializers import Materializer, register_materializer
from .retention import (
    INHERIT,
    ApplyResult,
    CollectionStorage,
    DeleteResult,
    GcResult,
    PlannedDeletion,
    PolicyList,
    RetentionPlan,
    RetentionPolicy,
    StorageReport,
    UndeleteResult,
)
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

__all__ = [
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
    "LinkResult",
    "Materializer",
    "MetadataDiff",
    "NotFound",
    "PlannedDeletion",
    "PolicyList",
    "Ref",
    "RetentionPlan",
    "RetentionPolicy",
    "Run",
    "RunInfo",
    "StorageReport",
    "Unavailable",
    "UndeleteResult",
    "UpsertResult",
    "VerifyResult",
    "VersionDiff",
    "VersionTtl",
    "cache_cleanup",
    "cache_info",
    "register_materializer",
    "step",
]
__version__ = "0.1.0"
