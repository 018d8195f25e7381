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

from .aclient import AsyncClient
from .artifact import Artifact
from .client import Client
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
    "AlreadyExists",
    "ArkiveError",
    "Artifact",
    "ArtifactCollection",
    "ArtifactVersion",
    "AsyncArtifactVersion",
    "AsyncClient",
    "Client",
    "Code",
    "Conflict",
    "DownloadResult",
    "Draft",
    "FailedPrecondition",
    "FileInfo",
    "InvalidArgument",
    "NotFound",
    "Unavailable",
    "UpsertResult",
]
__version__ = "0.1.0"
