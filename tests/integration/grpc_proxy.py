"""A byte-level gRPC proxy in front of the real gateway that can cut DownloadReference streams, as a
dropped connection or a restarting gateway would: every call is forwarded unchanged (messages
stay serialized), except that the next `drops` DownloadReference streams end with UNAVAILABLE
after their first message (then `on_drop` runs, e.g. to change the source before the client
resumes). The offsets the client asked for are recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import grpc
from arkive_core.credentials import api_key

from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import reference_service_pb2 as rpb

DOWNLOAD_REFERENCE = "/arkive.v1.ReferenceService/DownloadReference"
OPTIONS = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]


class DropProxy(grpc.GenericRpcHandler):
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.drops = 0
        self.offsets: list[int] = []  # DownloadReferenceRequest.offset of every call, in order
        self.on_drop: Callable[[], Awaitable[None]] | None = None

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method

        # Every kind of call is a stream of serialized messages on the wire: forward it as one.
        async def forward(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext):
            msgs = [m async for m in requests]  # the SDK's client streams are short
            drop = False
            if method == DOWNLOAD_REFERENCE:
                self.offsets.append(rpb.DownloadReferenceRequest.FromString(msgs[0]).offset)
                drop, self.drops = self.drops > 0, max(self.drops - 1, 0)
            call = self.channel.stream_stream(method)(iter(msgs))
            try:
                async for resp in call:
                    yield resp
                    if drop:
                        call.cancel()
                        if self.on_drop is not None:
                            await self.on_drop()
                        await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset (simulated)")
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "")

        return grpc.stream_stream_rpc_method_handler(forward)


@asynccontextmanager
async def drop_proxy(target: str) -> AsyncIterator[tuple[str, DropProxy]]:
    """(address, proxy) of a proxy in front of the gateway at target."""
    async with grpc.aio.insecure_channel(
        target, options=OPTIONS, interceptors=bearer_interceptors(api_key())
    ) as channel:
        proxy = DropProxy(channel)
        server = grpc.aio.server(options=OPTIONS)
        server.add_generic_rpc_handlers([proxy])
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            yield f"127.0.0.1:{port}", proxy
        finally:
            await server.stop(None)
