"""Transport: what the engine needs of a connection to the gateway.

The client's Connection (arkive/_connection.py) implements it; the engine never sees a client. The
engine's own retries (per call kind, within retry_deadline) come from arkive._rpc.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import grpc

    from .wire import BlobStub


class Transport(Protocol):
    @property
    def address(self) -> str:
        """host:port of the gateway (named in errors)."""
        ...

    @property
    def timeout(self) -> float:
        """Seconds allowed for one non-streaming call."""
        ...

    @property
    def idempotent_timeout(self) -> float:
        """Seconds allowed for one attempt of a call that is retried."""
        ...

    @property
    def retry_deadline(self) -> float:
        """Seconds an operation keeps retrying idempotent calls."""
        ...

    def channel(self) -> grpc.aio.Channel:
        """The channel of the running event loop."""
        ...

    def blobs(self) -> BlobStub:
        """The blob service (uploads and downloads) on that channel."""
        ...
