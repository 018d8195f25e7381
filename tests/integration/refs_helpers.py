"""Helpers of the reference tests: a local HTTP server whose content the test changes, and a second
gateway process on the session stack that allow-lists that server (the default gateway refuses
loopback addresses, as it must)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import BinaryIO

import grpc
from aiobotocore.session import get_session
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FileServer:
    """Serves `files` (path -> bytes) with strong ETags, If-Match and "Range: bytes=N-", like S3 or
    a CDN would; /go/<path> redirects (302) to the Location in `redirects`; paths in `ignore_range`
    are always answered whole (200), like a server without range support."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.no_etag: set[str] = set()  # served with Content-Length only, If-Match ignored
        self.port = 0
        self.requests: list[str] = []
        self.ranges: list[str] = []  # the Range header of every GET ("" without one)
        self.ignore_range: set[str] = set()  # Range ignored: 200, the whole body and its strong ETag
        self.ignored_ranges: list[str] = []  # the Range headers answered that way

    @staticmethod
    def etag(data: bytes) -> str:
        return '"' + hashlib.md5(data).hexdigest() + '"'

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.lstrip("/")
        self.requests.append(f"{request.method} {request.path}")
        if path in self.redirects:
            raise web.HTTPFound(self.redirects[path])
        if path not in self.files:
            raise web.HTTPNotFound()
        data = self.files[path]
        etag = self.etag(data)
        if path in self.no_etag:
            headers = {}
        elif request.headers.get("If-Match", etag) != etag:
            raise web.HTTPPreconditionFailed()
        else:
            headers = {"ETag": etag}
        if request.method == "HEAD":
            return web.Response(headers={**headers, "Content-Length": str(len(data))})
        self.ranges.append(request.headers.get("Range", ""))
        m = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
        if m and path in self.ignore_range:
            self.ignored_ranges.append(m[0])  # falls through to the whole body (RFC 9110 allows it)
        elif m and path not in self.no_etag:  # "bytes=N-" only, the one form the gateway sends
            start = int(m[1])
            if start >= len(data):
                raise web.HTTPRequestRangeNotSatisfiable()
            content_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return web.Response(status=206, body=data[start:], headers={**headers, "Content-Range": content_range})
        return web.Response(body=data, headers=headers)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FileServer]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        self.port = free_port()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        try:
            yield self
        finally:
            await runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


def _open(log: Path) -> BinaryIO:
    return open(log, "wb")  # closed by extra_gateway once the process is gone


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@asynccontextmanager
async def extra_gateway(env: dict[str, str], log: Path, **extra: str) -> AsyncIterator[str]:
    """A second gateway process on the same stack with extra settings; yields its address."""
    addr = f"127.0.0.1:{free_port()}"
    out = _open(log)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arkive_gateway",
        env={**env, "ARKIVE_GATEWAY_ADDR": addr, "PYTHONUNBUFFERED": "1", **extra},
        stdout=out,
        stderr=out,
    )
    try:
        async with grpc.aio.insecure_channel(addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(300):
                try:
                    resp = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if resp.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                if proc.returncode is not None:
                    raise RuntimeError(f"extra gateway exited: {_tail(log)}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"extra gateway never became ready: {_tail(log)}")
        yield addr
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        out.close()


def project() -> str:
    return "r" + uuid.uuid4().hex[:12]


@contextlib.asynccontextmanager
async def s3_client(env: dict[str, str]):
    async with get_session().create_client(
        "s3",
        endpoint_url=env["ARKIVE_S3_ENDPOINT"],
        aws_access_key_id=env["ARKIVE_S3_ACCESS_KEY"],
        aws_secret_access_key=env["ARKIVE_S3_SECRET_KEY"],
        region_name=env["ARKIVE_S3_REGION"],
    ) as s3:
        yield s3


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
