"""TLS at the gateway: certificates from files (rotated without a restart), no plaintext listener,
optional client certificates; the SDK trusts ARKIVE_TLS_CA. Real certificates made with trustme."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import scratch_dir

import arkive
from arkive_stack import Stack, StackConfig


@dataclass
class TlsGateway:
    addr: str
    files: Path
    ca: trustme.CA


def write_pair(ca: trustme.CA, files: Path) -> None:
    """A server certificate for 127.0.0.1 and localhost signed by `ca`, written in place."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    # Key first, then the chain: the gateway re-reads both when either changed.
    cert.private_key_pem.write_to_path(str(files / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(files / "server.pem"))


async def start_gateway(stack: Stack, data: Path, monkeypatch: pytest.MonkeyPatch, **tls: str) -> Stack:
    for var, value in tls.items():
        monkeypatch.setenv(var, value)
    env = stack.env
    cfg = StackConfig.for_tests(
        data,
        services=("gateway",),
        nats_url=stack.nats_url,
        database_url=stack.database_url,
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=env["ARKIVE_S3_ACCESS_KEY"],
        s3_secret_key=env["ARKIVE_S3_SECRET_KEY"],
    )
    gateway = Stack(cfg)
    await gateway.start()  # its readiness probe speaks TLS too (probes.py)
    return gateway


@pytest_asyncio.fixture
async def tls_gateway(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TlsGateway]:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    write_pair(ca, tmp_path)
    with scratch_dir() as data:
        gateway = await start_gateway(
            stack,
            data,
            monkeypatch,
            ARKIVE_TLS_CERT=str(tmp_path / "server.pem"),
            ARKIVE_TLS_KEY=str(tmp_path / "server.key"),
            ARKIVE_TLS_CA=str(tmp_path / "ca.pem"),
        )
        try:
            yield TlsGateway(gateway.gateway_addr, tmp_path, ca)
        finally:
            await gateway.stop()


async def healthy(addr: str, credentials: grpc.ChannelCredentials | None) -> bool:
    channel = grpc.aio.secure_channel(addr, credentials) if credentials is not None else grpc.aio.insecure_channel(addr)
    async with channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.aio.AioRpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_the_sdk_logs_and_downloads_over_tls_and_plaintext_is_refused(tls_gateway: TlsGateway) -> None:
    files = tls_gateway.files
    (files / "data").mkdir()
    (files / "data" / "x.bin").write_bytes(os.urandom(5000))
    art = arkive.Artifact("secure")
    art.add_dir(files / "data")
    # ARKIVE_TLS_CA is set (the fixture): the SDK opens a TLS channel that trusts that CA
    async with arkive.AsyncClient(tls_gateway.addr, "tls", progress=False) as client:
        v = await client.log_artifact(art)
        got = await client.download(v, files / "out")
    assert (got.path / "x.bin").read_bytes() == (files / "data" / "x.bin").read_bytes()

    assert not await healthy(tls_gateway.addr, None)  # no plaintext listener
    other = trustme.CA()  # a client that trusts another CA refuses the server
    assert not await healthy(tls_gateway.addr, grpc.ssl_channel_credentials(other.cert_pem.bytes()))
    assert await healthy(tls_gateway.addr, grpc.ssl_channel_credentials(tls_gateway.ca.cert_pem.bytes()))


async def test_a_rotated_certificate_is_served_without_a_restart(tls_gateway: TlsGateway) -> None:
    old_ca = tls_gateway.ca.cert_pem.bytes()
    assert await healthy(tls_gateway.addr, grpc.ssl_channel_credentials(old_ca))
    new_ca = trustme.CA()
    write_pair(new_ca, tls_gateway.files)
    # A new connection gets the new certificate: trusted by the new CA, refused by the old one.
    assert await healthy(tls_gateway.addr, grpc.ssl_channel_credentials(new_ca.cert_pem.bytes()))
    assert not await healthy(tls_gateway.addr, grpc.ssl_channel_credentials(old_ca))


async def test_client_certificates_can_be_required(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, clients = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    clients.cert_pem.write_to_path(str(tmp_path / "clients.pem"))
    write_pair(ca, tmp_path)
    me = clients.issue_cert("worker@example.org")
    me.private_key_pem.write_to_path(str(tmp_path / "me.key"))
    me.cert_chain_pems[0].write_to_path(str(tmp_path / "me.pem"))
    with scratch_dir() as data:
        gateway = await start_gateway(
            stack,
            data,
            monkeypatch,
            ARKIVE_TLS_CERT=str(tmp_path / "server.pem"),
            ARKIVE_TLS_KEY=str(tmp_path / "server.key"),
            ARKIVE_TLS_CLIENT_CA=str(tmp_path / "clients.pem"),
            ARKIVE_TLS_CA=str(tmp_path / "ca.pem"),
            ARKIVE_TLS_CLIENT_CERT=str(tmp_path / "me.pem"),
            ARKIVE_TLS_CLIENT_KEY=str(tmp_path / "me.key"),
        )
        try:
            roots = ca.cert_pem.bytes()
            assert not await healthy(gateway.gateway_addr, grpc.ssl_channel_credentials(roots))
            stranger = ca.issue_cert("stranger@example.org")  # signed, but not by the clients' CA
            bad = grpc.ssl_channel_credentials(
                roots, stranger.private_key_pem.bytes(), stranger.cert_chain_pems[0].bytes()
            )
            assert not await healthy(gateway.gateway_addr, bad)
            async with arkive.AsyncClient(gateway.gateway_addr, "tls", progress=False) as client:
                with pytest.raises(arkive.NotFound):  # the server's answer: the SDK presented ARKIVE_TLS_CLIENT_*
                    await client.versions("nothing-here")
        finally:
            await gateway.stop()


async def test_a_client_trusting_another_ca_is_told_so_at_once(
    tls_gateway: TlsGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS misconfiguration never heals by waiting: the SDK says what to check instead of riding
    out the whole retry deadline and then calling the gateway unreachable."""
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    monkeypatch.setenv("ARKIVE_TLS_CA", str(tmp_path / "other.pem"))
    monkeypatch.setenv("ARKIVE_RETRY_DEADLINE", "600")  # waiting it out would time the test out
    async with arkive.AsyncClient(tls_gateway.addr, "tls", progress=False) as client:
        with pytest.raises(arkive.FailedPrecondition, match=r"TLS handshake.*ARKIVE_TLS_CA"):
            await client.versions("secure")
