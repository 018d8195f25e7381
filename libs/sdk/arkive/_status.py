"""Client.status(): every process of the deployment as it answers on the bus (AdminService.GetStatus):
readiness, version, uptime, outbox lag and its consumers' lag and dead letters. Global admins only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc

from ._feature import Feature


@dataclass(frozen=True)
class ConsumerStatus:
    consumer: str
    pending: int  # messages not yet delivered to it (JetStream num_pending, sampled)
    ack_pending: int  # delivered, not yet acknowledged
    dead_letters: int


@dataclass(frozen=True)
class ProcessStatus:
    service: str
    instance: str  # host:pid
    version: str
    ready: bool
    uptime_seconds: float
    outbox_pending: int
    outbox_oldest_age_seconds: float
    consumers: tuple[ConsumerStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Status(Feature):
    async def status(self, wait: float = 1.0) -> list[ProcessStatus]:
        """The processes that answered within `wait` seconds (at most 10), sorted by service."""
        stub = adgrpc.AdminServiceStub(self._ch())
        resp = await self._call_idempotent(stub.GetStatus, adpb.GetStatusRequest(wait_seconds=wait))
        return [
            ProcessStatus(
                p.service,
                p.instance,
                p.version,
                p.ready,
                p.uptime_seconds,
                p.outbox_pending,
                p.outbox_oldest_age_seconds,
                tuple(ConsumerStatus(c.consumer, c.pending, c.ack_pending, c.dead_letters) for c in p.consumers),
            )
            for p in resp.processes
        ]
