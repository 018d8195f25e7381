"""Feature: the base of AsyncClient's features, and `delegate`, which makes their methods the client's.

AsyncClient holds one object per feature (aliases, retention, lineage, the catalogue...), made on
first use, and its public methods for that feature are one line each: `set_aliases =
delegate(Aliases.set_aliases)`, keeping the feature method's signature and docstring (for the
blocking Client generated from AsyncClient, see _blocking.py). A feature reaches the client only
through what Feature offers: the connection, the project, the version factory, and the client's
public reading and logging methods for what other features do.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ._retention_types import INHERIT

if TYPE_CHECKING:
    import grpc

    from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc
    from arkive_proto.v1 import lineage_service_pb2_grpc as lgrpc
    from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc

    from ._connection import Connection
    from .aclient import AsyncClient
    from .artifact import Artifact
    from .engine.types import FileInfo
    from .engine.wire import BlobStub
    from .version import ArtifactVersion

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
F = TypeVar("F", bound="Feature")


class Feature:
    """One area of AsyncClient (made by the client, for the client): what its methods may use."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    # ---- the client's settings and connection ----------------------------------------------------

    @property
    def project(self) -> str:
        return self._client.project

    @property
    def progress(self) -> bool | None:
        return self._client.progress

    @property
    def address(self) -> str:
        return self._conn.address

    @property
    def timeout(self) -> float:
        return self._conn.timeout

    @property
    def _conn(self) -> Connection:
        return self._client._conn

    def _ch(self) -> grpc.aio.Channel:
        return self._conn.channel()

    @property
    def _blobs(self) -> BlobStub:
        return self._conn.blobs()

    # The stubs' modules are imported on first use: `arkive --help` imports feature modules (for their
    # result types and printers) and should not pay for every service's generated code.
    @property
    def _artifacts(self) -> agrpc.ArtifactServiceStub:
        from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc

        return agrpc.ArtifactServiceStub(self._ch())

    @property
    def _retention(self) -> rgrpc.RetentionServiceStub:
        from arkive_proto.v1 import retention_service_pb2_grpc as rgrpc

        return rgrpc.RetentionServiceStub(self._ch())

    @property
    def _lineage(self) -> lgrpc.LineageServiceStub:
        from arkive_proto.v1 import lineage_service_pb2_grpc as lgrpc

        return lgrpc.LineageServiceStub(self._ch())

    @property
    def _idempotent_timeout(self) -> float:
        return self._conn.idempotent_timeout

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        return await self._conn.call(method, request, timeout)

    async def _call_idempotent(self, method: Any, request: Any) -> Any:
        return await self._conn.call_idempotent(method, request)

    def _pages(self, make: Any, method: Any) -> AsyncIterator[Any]:
        return self._conn.pages(make, method)

    # ---- versions: refs in, bound versions out ---------------------------------------------------

    def _ref(self, ref: str | ArtifactVersion) -> str:
        return self._client._ref(ref)

    def _version(self, v: Any, **extra: Any) -> ArtifactVersion:
        return self._client._version(v, **extra)

    @property
    def _owner(self) -> Any:
        return self._client._owner

    # ---- what other features do, through the client's public methods ---------------------------

    async def get_version(
        self, ref: str | ArtifactVersion, *, as_of: datetime | float | str | None = None
    ) -> ArtifactVersion:
        return await self._client.get_version(ref, as_of=as_of)

    def files(self, ref: str | ArtifactVersion, *, path_prefix: str | None = None) -> AsyncIterator[FileInfo]:
        return self._client.files(ref, path_prefix=path_prefix)

    async def log_artifact(
        self,
        artifact: Artifact,
        project: str | None = None,
        *,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
        ttl: Any = INHERIT,
    ) -> ArtifactVersion:
        return await self._client.log_artifact(
            artifact, project, aliases=aliases, tags=tags, label=label, run_id=run_id, ttl=ttl
        )


@functools.cache
def _owner_class(method: Callable[..., Any]) -> type[Feature]:
    # The feature class a method was defined in (found when first called: the class statement
    # has not finished when its methods are handed to delegate in AsyncClient's body).
    cls = getattr(sys.modules[method.__module__], method.__qualname__.rpartition(".")[0])
    assert issubclass(cls, Feature), method.__qualname__
    return cls


def delegate(
    method: Callable[Concatenate[F, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]]:
    """A coroutine method of AsyncClient that runs `method` on the client's feature object."""

    async def forward(client: AsyncClient, *args: P.args, **kwargs: P.kwargs) -> R:
        return await method(client._feature(_owner_class(method)), *args, **kwargs)  # type: ignore[arg-type]

    functools.update_wrapper(forward, method)
    return forward


def delegate_iter(
    method: Callable[Concatenate[F, P], AsyncIterator[T]],
) -> Callable[Concatenate[AsyncClient, P], AsyncIterator[T]]:
    """delegate for async generator methods (the items as they come; closed when the caller stops)."""

    async def forward(client: AsyncClient, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        items = method(client._feature(_owner_class(method)), *args, **kwargs)  # type: ignore[arg-type]
        try:
            async for item in items:
                yield item
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()

    functools.update_wrapper(forward, method)
    return forward
