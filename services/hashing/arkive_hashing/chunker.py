"""Builds the chunk index: a durable JetStream consumer on BlobStored that cuts every stored blob of
CHUNKED_FROM bytes or more into content-defined chunks and indexes them (BlobChunked). It runs after
the upload was answered, so the first upload of new data pays nothing for it.

Replicas compete for messages. The object is read and chunked outside any transaction (it may take
seconds); the processed-event record, the chunk rows and the events then commit together, so a
redelivery (or a second replica) finds the record and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from arkive_core import cdc
from botocore.exceptions import ClientError
from nats.errors import TimeoutError as NatsTimeout

from arkive_common import eventlog
from arkive_common.blobstore import BlobStore
from arkive_common.consumer import DeliveryPolicy, EventConsumer, record_processed
from arkive_common.events import BlobChunked, BlobStored, Envelope

from . import chunks, index

log = logging.getLogger(__name__)
DURABLE = "hashing-chunker"
BLOCK = 4 * 1024 * 1024
PROGRESS_SECONDS = 4.0  # tell JetStream we are still working (its ack wait is 10 s)


class ChunkIndexer(EventConsumer):
    def __init__(
        self,
        js,
        pool: asyncpg.Pool,
        store: BlobStore,
        *,
        stream: str,
        prefix: str,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        subject = f"{prefix}.events.blob.BlobStored"
        super().__init__(
            js, pool, stream=stream, durable=DURABLE, filter_subject=subject, handler=_unused, policy=policy
        )
        self.store = store

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.store.close()

    async def _alive(self, event: BlobStored) -> bool:
        row = await self._pool.fetchval(
            "SELECT 1 FROM hashing_blobs WHERE digest = $1 AND key = $2", event.digest, event.key
        )
        return row is not None

    async def _cut(self, key: str, size: int) -> list[tuple[str, int, int]]:
        digester = cdc.ChunkDigester()
        out: list[tuple[str, int, int]] = []
        block = bytearray()
        async for piece in self.store.read(key, 0, size):
            block += piece
            if len(block) >= BLOCK:
                out += await asyncio.to_thread(digester.feed, bytes(block))
                block.clear()
        if block:
            out += await asyncio.to_thread(digester.feed, bytes(block))
        out += digester.finish()
        return out

    async def handle(self, env: Envelope) -> bool:
        event = env.event()
        cut: list[tuple[str, int, int]] = []
        if isinstance(event, BlobStored) and event.size >= cdc.CHUNKED_FROM and await self._alive(event):
            done = await self._pool.fetchval(
                "SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2", DURABLE, env.id
            )
            if done:
                return False
            try:
                cut = await self._cut(event.key, event.size)
            except ClientError:
                if await self._alive(event):
                    raise  # a real S3 problem: redelivered later
                cut = []  # GC removed the blob meanwhile: nothing to index
        async with self._pool.acquire() as conn, conn.transaction():
            if not await record_processed(conn, DURABLE, env.id):
                return False
            if not cut or not isinstance(event, BlobStored):
                return True
            alive = await conn.fetchval(
                "SELECT 1 FROM hashing_blobs WHERE digest = $1 AND key = $2 FOR SHARE", event.digest, event.key
            )
            if not alive:  # swept while we read: its object is going away
                return True
            now = time.time()
            events = [
                BlobChunked(
                    digest=event.digest,
                    key=event.key,
                    chunks=cut[i : i + chunks.EVENT_CHUNKS],
                    part=i // chunks.EVENT_CHUNKS,
                    chunked_at=now,
                )
                for i in range(0, len(cut), chunks.EVENT_CHUNKS)
            ]
            for e in events:
                await chunks.apply(conn, e)
            await eventlog.append(conn, [eventlog.Append(index.blob_stream(event.digest), events, None)])
        log.info("chunked %s: %d chunks", event.digest, len(cut))
        return True

    async def _pull(self, sub) -> None:
        # As EventConsumer._pull, but a message being chunked is kept "in progress" so JetStream
        # does not hand it to another replica while a large object is read.
        try:
            while not self._stopping:
                if time.monotonic() >= self._next_sample:
                    await self._sample_lag(sub)  # its lag on /metrics, as every consumer's
                try:
                    msgs = await sub.fetch(1, timeout=1.0)
                except NatsTimeout:
                    continue
                for msg in msgs:
                    ticker = asyncio.create_task(_keep_alive(msg))
                    try:  # bounded redeliveries, then a dead letter (EventConsumer.deliver)
                        await self.deliver(msg)
                    finally:
                        ticker.cancel()
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _keep_alive(msg) -> None:
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        with contextlib.suppress(Exception):
            await msg.in_progress()


async def _unused(conn: asyncpg.Connection, env: Envelope) -> None:  # handle() is overridden
    raise NotImplementedError
