"""The TTL in force for one version and when it expires (an AsyncClient feature; Client's blocking
methods are generated from it). `arkive show` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arkive_proto.v1 import retention_service_pb2 as rpb

from ._convert import to_datetime
from ._feature import Feature
from .version import ArtifactVersion


@dataclass(frozen=True, slots=True)
class VersionTtl:
    """ttl None: never expires. source: "version" (set on it), "type default", "project default" or
    "none". The server's retention schedule deletes the version at its first run after expires_at."""

    ttl: timedelta | None
    source: str
    expires_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ttl_seconds": int(self.ttl.total_seconds()) if self.ttl else 0,
            "source": self.source,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


class Ttls(Feature):
    """TTL lookup of AsyncClient."""

    async def ttl(self, ref: str | ArtifactVersion) -> VersionTtl:
        """The TTL in force for the version `ref` resolves to (its own, else the project's default
        for its type, else for every type) and when it expires."""
        request = rpb.GetVersionTtlRequest(ref=self._ref(ref))
        resp = await self._call_idempotent(self._retention.GetVersionTtl, request)
        return VersionTtl(
            ttl=timedelta(seconds=resp.ttl_seconds) if resp.ttl_seconds > 0 else None,
            source=resp.source,
            expires_at=to_datetime(resp.expires_at) if resp.HasField("expires_at") else None,
        )
