"""A stack of the test's own whose gateway the test SIGKILLs and starts again, as a crash and a
supervisor's restart would (the launcher's own restarts are not relied on)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from arkive_core.credentials import api_key
from support import assert_eventually, scratch_dir

from arkive._rpc import bearer_interceptors
from arkive_stack import Stack, StackConfig
from arkive_stack.probes import grpc_serving
from arkive_stack.processes import ManagedProcess


class RestartableGateway:
    """The gateway process of `stack`, replaced by a fresh one after each kill."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.addr = stack.gateway_addr
        self.proc = next(p for p in stack.services if p.name == "gateway")
        self.spares: list[ManagedProcess] = []  # the replacements this helper started
        self.outages: list[tuple[float, float]] = []  # (killed, SERVING again) of each restart, monotonic

    async def kill(self) -> float:
        """SIGKILL the gateway (no graceful stop: in-flight calls just lose their answers)."""
        killed_at = time.monotonic()
        self.proc.signal_group(signal.SIGKILL)
        await assert_eventually(lambda: self.proc.returncode is not None, timeout=10)
        return killed_at

    async def start(self, killed_at: float) -> float:
        """A new gateway process on the same address; returns the outage (kill to SERVING)."""
        old = self.proc
        self.proc = ManagedProcess(old.name, old.argv, old.log_path, env=old.env, stop_timeout=old.stop_timeout)
        self.spares.append(self.proc)
        self.proc.start()
        await assert_eventually(lambda: grpc_serving(self.addr, timeout=0.5), timeout=60, interval=0.02)
        self.outages.append((killed_at, time.monotonic()))
        return time.monotonic() - killed_at

    async def restart(self, down_for: float) -> float:
        """Kill, stay down `down_for` seconds, start again; returns the outage."""
        killed_at = await self.kill()
        await asyncio.sleep(down_for)
        return await self.start(killed_at)

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.spares))


@asynccontextmanager
async def own_stack(infra: Stack) -> AsyncIterator[tuple[Stack, RestartableGateway]]:
    """All five services of the test's own on the session's servers (they join the session
    stack's services as replicas), and its gateway as a RestartableGateway."""
    with scratch_dir("arkive-restarts-") as data_dir:
        cfg = StackConfig.for_tests(data_dir, **infra.server_settings())
        async with Stack(cfg) as stack:
            gateway = RestartableGateway(stack)
            try:
                yield stack, gateway
            finally:
                await gateway.stop()


class LosingProxy(grpc.GenericRpcHandler):
    """Forwards every call to the gateway unchanged (messages stay serialized), except that the
    next `lose[method]` calls of a method are carried out by the gateway and then answered with
    UNAVAILABLE, as when the gateway dies between doing the work and answering."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.lose: dict[str, int] = {}
        self.calls: dict[str, int] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        name = method.rsplit("/", 1)[-1]

        async def forward(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext):
            self.calls[name] = self.calls.get(name, 0) + 1
            msgs = [m async for m in requests]
            try:
                answers = [m async for m in self.channel.stream_stream(method)(iter(msgs))]
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "")
            if self.lose.get(name, 0) > 0:
                self.lose[name] -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the answer was lost (simulated)")
            for answer in answers:
                yield answer

        return grpc.stream_stream_rpc_method_handler(forward)


@asynccontextmanager
async def losing_proxy(target: str, port: int = 0) -> AsyncIterator[tuple[str, LosingProxy]]:
    """(address, proxy) of a LosingProxy on `port` (0: any free one) in front of `target`."""
    options = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    auth = bearer_interceptors(api_key())  # the proxy calls the gateway as the session's admin
    async with grpc.aio.insecure_channel(target, options=options, interceptors=auth) as channel:
        proxy = LosingProxy(channel)
        server = grpc.aio.server(options=options)
        server.add_generic_rpc_handlers([proxy])
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        try:
            yield f"127.0.0.1:{bound}", proxy
        finally:
            await server.stop(None)
