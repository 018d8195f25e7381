"""A stack of the test's own whose gateway the test SIGKILLs and starts again, as a crash and a
supervisor's restart would (the launcher's own restarts are not relied on)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from support import assert_eventually, scratch_dir

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
        cfg = StackConfig.for_tests(
            data_dir, nats_url=infra.nats_url, database_url=infra.database_url, s3_endpoint=infra.s3_endpoint
        )
        async with Stack(cfg) as stack:
            gateway = RestartableGateway(stack)
            try:
                yield stack, gateway
            finally:
                await gateway.stop()
