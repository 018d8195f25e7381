"""arkive: versioned artifacts for ML pipelines.

import arkive
client = arkive.Client()
art = arkive.Artifact("mnist", type="dataset", metadata={"rows": 70000})
art.add_dir("data/")
version = client.log_artifact(art, project="demo", aliases=["best"])
path = client.use_artifact("demo/mnist:best").download("restored/")
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
from .version import ArtifactCollection, ArtifactVersion, AsyncArtifactVersion, DownloadResult, FileInfo

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
    "FailedPrecondition",
    "FileInfo",
    "InvalidArgument",
    "NotFound",
    "Unavailable",
]
__version__ = "0.1.0"
