"""AdminService: the operator's calls. Those about bus consumers (dead letters, the reconciler) go
to every consuming service (contracts.CONSUMING), each answering for its own consumers."""

from __future__ import annotations

import asyncio

import msgspec
from arkive_core.errors import InvalidArgument, NotFound
from nats.aio.client import Client as NATS

from arkive_common import api, status
from arkive_common import api_consumers as ac
from arkive_common.contracts import CONSUMING
from arkive_proto.v1 import admin_service_pb2 as admin_pb

from .artifacts import AdminServicer as _BaseAdmin
from .errors import unary

MAX_STATUS_WAIT = 10.0


class AdminServicer(_BaseAdmin):
    def __init__(self, rpc, nc: NATS, prefix: str) -> None:
        super().__init__(rpc)
        self.nc = nc
        self.prefix = prefix

    @unary
    async def GetStatus(self, request, context) -> admin_pb.GetStatusResponse:
        wait = request.wait_seconds or 1.0
        if not 0 < wait <= MAX_STATUS_WAIT:  # NaN fails this too
            raise InvalidArgument(f"wait_seconds must be between 0 and {MAX_STATUS_WAIT:g}, not {wait}")
        answers = await status.gather(self.nc, self.prefix, wait)
        return admin_pb.GetStatusResponse(
            processes=[
                admin_pb.ProcessStatus(
                    **{k: v for k, v in msgspec.structs.asdict(a).items() if k != "consumers"},
                    consumers=[admin_pb.ConsumerStatus(**msgspec.structs.asdict(c)) for c in a.consumers],
                )
                for a in answers
            ]
        )

    @unary
    async def ListDeadLetters(self, request, context) -> admin_pb.ListDeadLettersResponse:
        replies = await asyncio.gather(*(self.rpc.call(c.dead_letters, api.Empty()) for c in CONSUMING))
        letters = sorted((d for r in replies for d in r.letters), key=lambda d: d.id)
        return admin_pb.ListDeadLettersResponse(
            dead_letters=[admin_pb.DeadLetter(**msgspec.structs.asdict(d)) for d in letters]
        )

    @unary
    async def RetryDeadLetter(self, request, context) -> admin_pb.RetryDeadLetterResponse:
        # Ids are unique across consumers, so at most one service knows it; the others say NOT_FOUND.
        for contract in CONSUMING:
            try:
                r = await self.rpc.call(contract.retry_dead_letter, ac.RetryDeadLetter(request.id))
            except NotFound:
                continue
            return admin_pb.RetryDeadLetterResponse(consumer=r.consumer, event_id=r.event_id, applied=r.applied)
        raise NotFound(f"no dead letter with id {request.id}")

    @unary
    async def CheckConsumers(self, request, context) -> admin_pb.CheckConsumersResponse:
        # A first check on a long log scans it once; later ones read only the new positions.
        replies = await asyncio.gather(*(self.rpc.call(c.check_consumers, api.Empty()) for c in CONSUMING))
        return admin_pb.CheckConsumersResponse(
            consumers=[admin_pb.ConsumerCheck(**msgspec.structs.asdict(c)) for r in replies for c in r.consumers]
        )
