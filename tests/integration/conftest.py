"""Fixtures the integration tests share: the stack's database and blob store as a test sees them
(`db`, `blob_store`), one local HTTP source and one gateway allowed to reach it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from arkive_common.blobstore import BlobStore

from .consumer_helpers import isolated  # noqa: F401 (a deployment of its own, see there)
from .refs_helpers import FileServer, extra_gateway
from .stores import stack_store


@pytest.fixture
async def db(stack) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the stack's PostgreSQL (read models, event log)."""
    conn = await asyncpg.connect(stack.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def blob_store(stack) -> AsyncIterator[BlobStore]:
    async with stack_store(stack) as store:
        yield store


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def http_server() -> AsyncIterator[FileServer]:
    async with FileServer().running() as server:
        yield server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def allowed_gateway(stack, http_server: FileServer, tmp_path_factory) -> AsyncIterator[str]:
    """A gateway that may reach the HTTP server's port on loopback (and nothing else private)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | stack.env
    env["ARKIVE_REFERENCE_S3_BUCKETS"] = os.environ["ARKIVE_REFERENCE_S3_BUCKETS"]  # set by the stack fixture
    log = tmp_path_factory.mktemp("gw") / "gateway-allow.log"
    async with extra_gateway(env, log, ARKIVE_REFERENCE_ALLOW=f"127.0.0.1:{http_server.port}") as addr:
        yield addr
