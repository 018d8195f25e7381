"""What the client mixins use of the client they are mixed into, declared for the type checker.

AsyncClient is assembled from mixins (one per area: aliases, retention, lineage...); each mixin
calls attributes that the client class or a sibling mixin defines. The mixins derive from
AsyncHost, which only declares those attributes: the declarations live under TYPE_CHECKING, so at
run time it is an empty class and every lookup still finds the real definition. (Client's methods
are generated from AsyncClient's: see _blocking.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import grpc

    from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
    from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc

    from ._connection import Connection
    from .artifact import Artifact
    from .engine.wire import BlobStub
    from .version import ArtifactVersion, FileInfo

T = TypeVar("T")


class AsyncHost:
    """Base of AsyncClient's mixins: AsyncClient's attributes (see aclient.py)."""

    address: str
    project: str
    timeout: float
    progress: bool | None

    if TYPE_CHECKING:
        _conn: Connection

        @property
        def _artifacts(self) -> agrpc.ArtifactServiceStub: ...

        @property
        def _blobs(self) -> BlobStub: ...

        @property
        def _retention(self) -> rgrpc.RetentionServiceStub: ...

        @property
        def _idempotent_timeout(self) -> float: ...

        def _ch(self) -> grpc.aio.Channel: ...

        async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any: ...

        async def _call_idempotent(self, method: Any, request: Any) -> Any: ...

        def _ref(self, ref: str | ArtifactVersion) -> str: ...

        def _version(self, v: Any, **extra: Any) -> ArtifactVersion: ...

        def _pages(self, make: Any, method: Any) -> AsyncIterator[Any]: ...

        async def get_version(
            self, ref: str | ArtifactVersion, *, as_of: datetime | float | str | None = None
        ) -> ArtifactVersion: ...

        def files(self, ref: str | ArtifactVersion, *, path_prefix: str | None = None) -> AsyncIterator[FileInfo]: ...

        async def log_artifact(
            self,
            artifact: Artifact,
            project: str | None = None,
            *,
            aliases: Sequence[str] = (),
            tags: Sequence[str] = (),
            label: str | None = None,
            run_id: str = "",
            ttl: Any = ...,
        ) -> ArtifactVersion: ...
