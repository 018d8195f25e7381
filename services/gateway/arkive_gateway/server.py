"""Composition root and lifecycle of the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from arkive_core.errors import ArkiveError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from nats.aio.client import Client as NATS

from arkive_common import api, bus
from arkive_common.blobstore import BlobStore
from arkive_common.config import Settings
from arkive_common.contracts import HASHING, INGEST
from arkive_common.rpc import RpcClient
from arkive_common.status import StatusResponder
from arkive_proto.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    blob_service_pb2,
    blob_service_pb2_grpc,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    lineage_service_pb2,
    lineage_service_pb2_grpc,
    reference_service_pb2,
    reference_service_pb2_grpc,
    retention_service_pb2,
    retention_service_pb2_grpc,
)

from .admin import AdminServicer
from .artifacts import ArtifactServicer
from .auth_interceptor import AuthInterceptor
from .auth_service import AuthServicer
from .blobs import BlobServicer
from .catalog import CatalogServicer
from .direct import DirectTransfers
from .lineage import LineageServicer
from .malformed import GuardedRegistration
from .metrics import MetricsInterceptor
from .references import ReferenceServicer, reference_store
from .retention import RetentionServicer
from .tls import TlsFiles
from .wire import BLOB_DESERIALIZERS

log = logging.getLogger(__name__)
MAX_MESSAGE = 16 * 1024 * 1024
# Clients ping every 20 s, also between calls, to find dead connections (arkive._rpc): grpc's
# server default refuses pings more often than every 5 minutes without data and answers repeated
# "too many pings" with GOAWAY, which would drop healthy idle clients. 10 s leaves them room.
KEEPALIVE_MIN_INTERVAL_MS = 10_000
SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.so_reuseport", 1),  # replicas may share one port
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", KEEPALIVE_MIN_INTERVAL_MS),
    ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MIN_INTERVAL_MS),
    ("grpc.http2.max_ping_strikes", 2),
]
# The backends the gateway cannot serve without; health turns SERVING once they answer.
REQUIRED = (INGEST, HASHING)


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = BlobStore(
            settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket, settings.s3_region
        )
        self.ref_store = reference_store(settings)  # s3:// references (ARKIVE_REFERENCE_S3_*)
        self.references: ReferenceServicer | None = None
        self.direct: DirectTransfers | None = None
        self.health = health.aio.HealthServicer() if hasattr(health, "aio") else health.HealthServicer()
        self.server: grpc.aio.Server | None = None
        self.nc: NATS | None = None
        self.status: StatusResponder | None = None
        self._stop = asyncio.Event()
        self._closed = False
        self._serving = False

    async def start(self) -> None:
        s = self.settings
        self.nc = await bus.connect(s.nats_url, "arkive-gateway", user=s.nats_user, password=s.nats_password)
        await self.store.__aenter__()
        await self.store.ensure_bucket()
        await self.ref_store.__aenter__()
        rpc = RpcClient(self.nc, s.subject_prefix)
        self.status = StatusResponder(self.nc, s.subject_prefix, "gateway", self.ready, [])
        await self.status.start()  # every gateway answers `arkive status` for itself
        auth = await self._auth(rpc)
        # metrics outermost: refused calls (UNAUTHENTICATED, PERMISSION_DENIED) are counted too
        interceptors = [MetricsInterceptor(), *([auth] if auth is not None else [])]
        server = grpc.aio.server(interceptors=interceptors, options=SERVER_OPTIONS)
        blobs = BlobServicer(rpc, self.store)  # uploads parsed without copying (see wire.py)
        self.direct = DirectTransfers(
            self.store,
            rpc,
            blobs.stat,
            endpoint=s.s3_endpoint,
            public_endpoint=s.s3_public_endpoint,
            access_key=s.s3_access_key,
            secret_key=s.s3_secret_key,
            region=s.s3_region,
            mode=s.direct_transfers,
        )
        blobs.direct = await self.direct.__aenter__()
        # Every method registered through GuardedRegistration: bytes that do not parse get INVALID_ARGUMENT.
        guarded = GuardedRegistration(server)
        blob_service_pb2_grpc.add_BlobServiceServicer_to_server(blobs, GuardedRegistration(server, BLOB_DESERIALIZERS))
        artifact_service_pb2_grpc.add_ArtifactServiceServicer_to_server(ArtifactServicer(rpc), guarded)
        admin = AdminServicer(rpc, self.nc, s.subject_prefix)
        admin_service_pb2_grpc.add_AdminServiceServicer_to_server(admin, guarded)
        lineage_service_pb2_grpc.add_LineageServiceServicer_to_server(LineageServicer(rpc), guarded)
        retention_service_pb2_grpc.add_RetentionServiceServicer_to_server(RetentionServicer(rpc), guarded)
        catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(rpc), guarded)
        self.references = ReferenceServicer(rpc, s, self.ref_store, self.store)
        reference_service_pb2_grpc.add_ReferenceServiceServicer_to_server(self.references, guarded)
        auth_service_pb2_grpc.add_AuthServiceServicer_to_server(
            AuthServicer(rpc, auth.tokens if auth is not None else None), guarded
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = [
            blob_service_pb2.DESCRIPTOR.services_by_name["BlobService"].full_name,
            artifact_service_pb2.DESCRIPTOR.services_by_name["ArtifactService"].full_name,
            admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
            lineage_service_pb2.DESCRIPTOR.services_by_name["LineageService"].full_name,
            retention_service_pb2.DESCRIPTOR.services_by_name["RetentionService"].full_name,
            catalog_service_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
            reference_service_pb2.DESCRIPTOR.services_by_name["ReferenceService"].full_name,
            auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,
        ]
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING, names)
        tls = TlsFiles.from_env()
        if tls is not None:  # TLS only: no plaintext listener beside it
            bound = server.add_secure_port(s.gateway_addr, tls.credentials())
        else:
            bound = server.add_insecure_port(s.gateway_addr)
        if bound == 0:
            raise RuntimeError(f"cannot listen on {s.gateway_addr}")
        if tls is not None:
            mutual = " (client certificates required)" if tls.client_ca else ""
            log.info("gateway serves TLS%s with %s", mutual, tls.cert)
        await server.start()
        self.server = server
        log.info("gateway listening on %s; waiting for %s", s.gateway_addr, ", ".join(c.service for c in REQUIRED))
        await self._wait_for_backends(rpc)
        await self._set_health(health_pb2.HealthCheckResponse.SERVING, names)
        self._serving = True
        log.info("arkive-gateway ready on %s", s.gateway_addr)

    async def _auth(self, rpc: RpcClient) -> AuthInterceptor | None:
        """The interceptor, with its token cache emptied by every principal or grant event on the bus
        (a plain subscription: JetStream publishes are ordinary NATS messages too)."""
        if self.settings.auth == "off":
            log.warning(
                "ARKIVE_AUTH=off: AUTHENTICATION IS DISABLED. Anyone who reaches %s can read, write, "
                "delete and purge every project. Use only on a trusted, isolated network.",
                self.settings.gateway_addr,
            )
            return None
        auth = AuthInterceptor(rpc)
        assert self.nc is not None
        prefix = self.settings.subject_prefix

        async def invalidate(_msg: object) -> None:
            auth.tokens.clear()

        for category in ("principal", "grant"):
            await self.nc.subscribe(f"{prefix}.events.{category}.>", cb=invalidate)
        return auth

    async def _set_health(self, status, names: list[str]) -> None:
        for name in ["", *names]:
            result = self.health.set(name, status)
            if asyncio.iscoroutine(result):
                await result

    async def _wait_for_backends(self, rpc: RpcClient) -> None:
        for contract in REQUIRED:
            while True:
                try:
                    await rpc.call(contract.ping, api.Empty(), timeout=2)
                    break
                except ArkiveError:
                    await asyncio.sleep(0.2)

    async def ready(self) -> bool:
        """Readiness (/readyz): serving (ingest and hashing answered), NATS connected, not stopping."""
        return self._serving and not self._closed and self.nc is not None and self.nc.is_connected

    async def drain(self) -> None:
        """SIGTERM (before the drain delay): gRPC health turns NOT_SERVING; calls keep being served."""
        result = self.health.enter_graceful_shutdown()
        if asyncio.iscoroutine(result):
            await result

    async def run(self) -> None:
        if self.server is None:
            await self.start()
        await self._stop.wait()

    async def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.status is not None:
            await self.status.close()
        if self.server is not None:
            await self.server.stop(grace=5)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        if self.direct is not None:
            await self.direct.__aexit__(None, None, None)
        await self.store.close()
        await self.ref_store.close()
        if self.references is not None:
            await self.references.close()
        self._stop.set()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()


async def bootstrap(settings: Settings) -> Gateway:
    return Gateway(settings)
