"""Client.dead_letters(), retry_dead_letter(), check_consumers(): the health of the bus consumers
(lineage, retention, hashing's chunk indexer), and how the CLI prints it (`arkive admin
dead-letters`, `arkive admin check`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc

from ._feature import Feature


@dataclass(frozen=True)
class DeadLetter:
    """An event a bus consumer gave up on after its bounded deliveries (ListDeadLetters)."""

    id: int
    consumer: str
    event_id: str  # "" when the message could not be decoded
    event_type: str
    subject: str
    stream_seq: int  # 0 when the reconciler parked it
    data_size: int
    error: str
    deliveries: int
    first_failure: float  # seconds since the epoch
    last_failure: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConsumerCheck:
    """One consumer's reconciler run (CheckConsumers): events of the log it should have processed,
    those it has, those re-driven from the log by this check, and what is still missing."""

    consumer: str
    position: int
    expected: int
    processed: int
    redriven: int
    still_missing: int
    dead_letters: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_proto(cls: type, msg: Any) -> Any:
    return cls(**{f.name: getattr(msg, f.name) for f in fields(cls)})


class Consumers(Feature):
    """Operator methods of AsyncClient about the bus consumers."""

    @property
    def _admin(self) -> adgrpc.AdminServiceStub:
        return adgrpc.AdminServiceStub(self._ch())

    async def dead_letters(self) -> list[DeadLetter]:
        """Events the bus consumers parked after failing on them, oldest first."""
        resp = await self._call_idempotent(self._admin.ListDeadLetters, adpb.ListDeadLettersRequest())
        return [_from_proto(DeadLetter, d) for d in resp.dead_letters]

    async def retry_dead_letter(self, dead_letter_id: int) -> dict[str, Any]:
        """Applies a dead letter again (exactly once); raises FailedPrecondition if it still fails."""
        resp = await self._call(self._admin.RetryDeadLetter, adpb.RetryDeadLetterRequest(id=dead_letter_id))
        return {"id": dead_letter_id, "consumer": resp.consumer, "event_id": resp.event_id, "applied": resp.applied}

    async def check_consumers(self) -> list[ConsumerCheck]:
        """Runs every consumer's reconciler now; events missing from a projection are re-driven."""
        timeout = max(self.timeout, 900)  # a first check scans the whole log
        resp = await self._call(self._admin.CheckConsumers, adpb.CheckConsumersRequest(), timeout=timeout)
        return [_from_proto(ConsumerCheck, c) for c in resp.consumers]
