"""Per-call cost of authentication (`python -m benchmarks.auth_overhead [N]`).

Starts a stack plus two more gateways on the same services, one with ARKIVE_AUTH=on and one with
off (started alike, so only auth differs), and times N small unary calls (ListArtifacts of a
one-collection project) through each, in alternating rounds of 50 so both see the same machine
load; prints the median and mean per call and their difference. Also times
the interceptor's own work with a warm cache (token parse, cache hit, sha256, compare, rule check)
without the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import grpc

import arkive
from arkive._rpc import bearer_interceptors, open_channel
from arkive_common import api_auth as aa
from arkive_gateway.auth_interceptor import AuthInterceptor
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as ag
from arkive_stack import Stack, StackConfig
from arkive_stack.ports import free_port

PROJECT = "authbench"


class _Details(NamedTuple):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...]


class _WithMetadata:
    """The token passed per call (no client interceptor), to tell client from server cost."""

    def __init__(self, stub: ag.ArtifactServiceStub, token: str) -> None:
        self._stub, self._md = stub, (("authorization", f"Bearer {token}"),)

    async def ListArtifacts(self, request: apb.ListArtifactsRequest) -> object:
        return await self._stub.ListArtifacts(request, metadata=self._md)


async def _rounds(stubs: dict[str, Any], n: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {k: [] for k in stubs}
    request = apb.ListArtifactsRequest(project=PROJECT)
    for _ in range(20):  # warm up: connections, caches
        for stub in stubs.values():
            await stub.ListArtifacts(request)
    for _ in range(n // 50):
        for label, stub in stubs.items():
            for _ in range(50):
                t = time.perf_counter()
                await stub.ListArtifacts(request)
                samples[label].append(time.perf_counter() - t)
    return samples


async def _interceptor_only(n: int, token: str) -> float:
    """Seconds per call of the interceptor and its handler wrapper on a warm cache (no network):
    token parse, cache hit, sha256 + compare, rule lookup, project check."""
    from arkive_core.tokens import parse_token

    parsed = parse_token(token)
    assert parsed is not None
    record = aa.TokenAuth(
        found=True, token_id=parsed.token_id, principal_id="bench", kind="service",
        secret_sha256=parsed.secret_sha256, grants={PROJECT: "writer"},
    )  # fmt: skip

    class NoBus:
        async def call(self, *args: object, **kw: object) -> aa.TokenAuth:
            return record

    interceptor = AuthInterceptor(NoBus())  # type: ignore[arg-type]

    async def handler(request: object, context: object) -> object:
        return request

    async def continuation(details: object) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(handler)

    details = _Details("/arkive.v1.ArtifactService/ListArtifacts", (("authorization", f"Bearer {token}"),))
    request = apb.ListArtifactsRequest(project=PROJECT)
    await (await interceptor.intercept_service(continuation, details)).unary_unary(request, None)
    t = time.perf_counter()
    for _ in range(n):
        wrapped = await interceptor.intercept_service(continuation, details)
        await wrapped.unary_unary(request, None)
    return (time.perf_counter() - t) / n


@contextlib.asynccontextmanager
async def _gateway(env: dict[str, str], log: Path, auth: str) -> AsyncIterator[str]:
    """Another gateway process on the same services, ARKIVE_AUTH=`auth`; yields its address."""
    addr = f"127.0.0.1:{free_port(set())}"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arkive_gateway", env={**env, "ARKIVE_GATEWAY_ADDR": addr, "ARKIVE_AUTH": auth},
            stdout=out, stderr=out,
        )  # fmt: skip
        try:
            yield addr
        finally:
            proc.terminate()
            await proc.wait()


async def _ready(stub: Any) -> None:
    for _ in range(600):
        try:
            await stub.ListArtifacts(apb.ListArtifactsRequest(project=PROJECT))
            return
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.1)


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="arkive-authbench-") as tmp:
        stack = Stack(StackConfig.for_tests(Path(tmp) / "stack"))
        await stack.start()
        os.environ["ARKIVE_API_KEY"] = token = stack.env["ARKIVE_API_KEY"]
        env = {**os.environ, **stack.env}
        try:
            src = Path(tmp) / "data"
            src.mkdir()
            (src / "a.txt").write_text("x")
            async with arkive.AsyncClient(stack.gateway_addr, PROJECT, progress=False) as client:
                art = arkive.Artifact("one")
                art.add_dir(src)
                await client.log_artifact(art, project=PROJECT)
            async with (
                _gateway(env, Path(tmp) / "gw-on.log", "on") as on_addr,
                _gateway(env, Path(tmp) / "gw-off.log", "off") as off_addr,
            ):
                channels = [
                    open_channel(on_addr, token),
                    grpc.aio.insecure_channel(off_addr),
                    grpc.aio.insecure_channel(on_addr),
                    grpc.aio.insecure_channel(on_addr, interceptors=bearer_interceptors(token)),
                ]
                stubs = {
                    "auth on (SDK)": ag.ArtifactServiceStub(channels[0]),
                    "auth off": ag.ArtifactServiceStub(channels[1]),
                    "auth on, metadata by hand": _WithMetadata(ag.ArtifactServiceStub(channels[2]), token),
                    "auth on, client intercept": ag.ArtifactServiceStub(channels[3]),
                }
                for stub in stubs.values():
                    await _ready(stub)
                samples = await _rounds(stubs, n)
                for label, s in samples.items():
                    med, mean = statistics.median(s) * 1e3, statistics.fmean(s) * 1e3
                    print(f"{label:26} median {med:.3f} ms  mean {mean:.3f} ms")
                diff = statistics.median(samples["auth on (SDK)"]) - statistics.median(samples["auth off"])
                print(f"difference of medians: {diff * 1e6:.0f} us per call ({n} calls each)")
                for ch in channels:
                    await ch.close()
            per = await _interceptor_only(20_000, token)
            print(f"interceptor work alone (warm cache, no network): {per * 1e6:.1f} us per call")
        finally:
            await stack.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
