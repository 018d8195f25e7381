"""Commands and queries between processes: NATS request-reply with msgspec payloads, typed by the
contracts (arkive_common.contract.Rpc) that both sides use.

A command has exactly one handler: every replica of the owning service subscribes in one queue
group, and NATS hands each request to one of them. Errors travel back as (code, message) and are
raised again at the caller, so a FAILED_PRECONDITION in ingest reaches the gRPC client as one.

Any other exception is reported without its text (it may quote SQL, stored values or server
internals): the caller gets a generic message with an incident id, the details are in the log of
the service that failed (rpc_failure.py). A request or reply larger than one NATS message is
split and put together again by rpc_transfer.py, up to limits.MAX_BUS_TRANSFER_BYTES.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from arkive_core import limits
from arkive_core.errors import ArkiveError, Code, InvalidArgument, Unavailable, error_from
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from . import context, tracing
from . import rpc_transfer as tr
from .bus import rpc_subject
from .contract import Handlers, Registered, Req, Resp, Rpc
from .rpc_failure import failure
from .rpc_observe import observed_call, observed_serve, served

log = logging.getLogger(__name__)
__all__ = ["RESEND_AFTER", "RpcClient", "RpcServer", "failure"]

RESEND_AFTER = 5.0
"""Seconds after which a resendable request (Rpc.resend) is sent again (far above their usual milliseconds)."""
NO_RESPONDERS_PAUSE = 0.2


class RpcServer:
    """Serves the methods registered in `handlers` on `<prefix>.rpc.<service>.<method>`, queue group <service>."""

    def __init__(self, nc: NATS, prefix: str, handlers: Handlers, *, concurrency: int = 64) -> None:
        self._nc = nc
        self._prefix = prefix
        self._service = handlers.service
        self._handlers = handlers
        self._limit = asyncio.Semaphore(concurrency)
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._transfers = tr.Transfers(prefix, self._service)

    def _spawn(self, work: Awaitable[None]) -> None:
        # Callbacks of one subscription run one at a time: hand each request to a task.
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        for name, registered in self._handlers.by_name.items():
            decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(registered.rpc.request)

            async def on_msg(msg: Msg, r: Registered = registered, d: msgspec.msgpack.Decoder[Any] = decoder) -> None:
                parts = int((msg.headers or {}).get(tr.PARTS, "1"))
                if parts > 1:
                    await self._open_upload(msg, r, d, parts)
                else:
                    self._spawn(self._serve(msg.data, msg.headers, msg.reply, r, d))

            sub = await self._nc.subscribe(
                rpc_subject(self._prefix, self._service, name), queue=self._service, cb=on_msg
            )
            self._subs.append(sub)
        self._subs.append(await self._nc.subscribe(self._transfers.wildcard, cb=self._on_transfer))
        await self._nc.flush()

    async def _open_upload(self, msg: Msg, r: Registered, d: msgspec.msgpack.Decoder[Any], parts: int) -> None:
        try:
            subject = self._transfers.open_upload(r.rpc.name, parts, msg.data, msg.headers, len(msg.data))
        except ArkiveError as exc:
            await self._answer(msg.reply, *tr.failed(exc.code, exc.message))
            return
        await self._answer(msg.reply, b"", {tr.TRANSFER: subject})

    async def _on_transfer(self, msg: Msg) -> None:
        """A later part of a large request, or the request for a part of a large reply."""
        tid = self._transfers.tid(msg.subject)
        index = int((msg.headers or {}).get(tr.PART, "0"))
        upload = self._transfers.uploads.get(tid)
        download = self._transfers.downloads.get(tid)
        if upload is not None and index == len(upload.received):
            upload.received.append(msg.data)
            upload.touched = time.monotonic()
            if len(upload.received) < upload.parts:
                await self._answer(msg.reply, b"", None)  # go on
                return
            del self._transfers.uploads[tid]
            registered = self._handlers.by_name[upload.name]
            decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(registered.rpc.request)
            self._spawn(self._serve(b"".join(upload.received), upload.headers, msg.reply, registered, decoder))
        elif download is not None and 0 < index < len(download.parts):
            download.touched = time.monotonic()
            if index == len(download.parts) - 1:
                del self._transfers.downloads[tid]
            await self._answer(msg.reply, download.parts[index], None)
        else:  # expired, the replica restarted in between, or a part out of order
            await self._answer(msg.reply, *tr.failed(Code.UNAVAILABLE, "the transfer is gone (expired?); try again"))

    @observed_serve
    async def _serve(
        self,
        data: bytes,
        headers: dict[str, str] | None,
        reply_to: str | None,
        registered: Registered,
        decoder: msgspec.msgpack.Decoder[Any],
    ) -> None:
        name = registered.rpc.name
        async with self._limit:
            # this task serves one request: the caller's principal and correlation id become ours
            context.CURRENT.set(context.CallContext.from_headers(headers))
            try:
                request = decoder.decode(data)
                result = await registered.handler(request)
                reply = tr.Reply(ok=True, result=msgspec.Raw(tr.encoder.encode(result)))
            except msgspec.ValidationError as exc:
                reply = tr.Reply(ok=False, code=Code.INVALID_ARGUMENT.value, message=f"malformed request: {exc}")
            except ArkiveError as exc:
                reply = tr.Reply(ok=False, code=exc.code.value, message=exc.message)
            except Exception as exc:
                code, message = failure(exc, f"{self._service}.{name}")
                reply = tr.Reply(ok=False, code=code.value, message=message)
            served(reply.code)
            if not reply_to:
                return
            encoded = tr.encoder.encode(reply)
            if len(encoded) > limits.MAX_BUS_TRANSFER_BYTES:
                log.error("%s.%s: reply of %d bytes is over the bus limit", self._service, name, len(encoded))
                encoded = tr.encoder.encode(tr.too_large(f"the reply of {self._service}.{name}", len(encoded)))
            parts = tr.split(encoded, tr.part_size(self._nc))
            first_headers = None
            if len(parts) > 1:
                first_headers = {tr.PARTS: str(len(parts)), tr.TRANSFER: self._transfers.open_download(parts)}
            await self._answer(reply_to, parts[0], first_headers)

    async def _answer(self, reply_to: str | None, data: bytes, headers: dict[str, str] | None) -> None:
        if not reply_to:
            return
        try:
            await self._nc.publish(reply_to, data, headers=headers)
        except Exception as exc:  # the caller gave up or NATS is away; it will retry
            log.warning("%s: could not reply: %s", self._service, exc)

    async def shutdown(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception:
                pass
        self._subs.clear()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)


class RpcClient:
    def __init__(self, nc: NATS, prefix: str) -> None:
        self._nc = nc
        self._prefix = prefix
        self._decoders: dict[type, msgspec.msgpack.Decoder[Any]] = {}

    @observed_call
    async def call(self, rpc: Rpc[Req, Resp], request: Req, *, timeout: float | None = None) -> Resp:
        """Request-reply within `timeout` seconds (the contract's by default). A resendable method
        (Rpc.resend) is sent again when a replica does not answer within RESEND_AFTER seconds or
        none is subscribed (a replica killed while it held the request, or restarting), until the
        timeout: a request lost with its process costs seconds, not the whole timeout. Others are
        sent once."""
        timeout = rpc.timeout if timeout is None else timeout
        subject = rpc_subject(self._prefix, rpc.service, rpc.name)
        payload = tr.encoder.encode(request)
        if len(payload) > limits.MAX_BUS_TRANSFER_BYTES:
            raise InvalidArgument(tr.too_large(f"the request to {rpc}", len(payload)).message)
        call = context.CURRENT.get()
        headers = tracing.inject_headers(call.headers() if call is not None else None)  # who asked, for the events
        deadline = time.monotonic() + timeout

        def wait() -> float:  # for one NATS message: the time left, or less where a re-send may help
            left = deadline - time.monotonic()
            return min(left, RESEND_AFTER) if rpc.resend else left

        while True:
            try:
                data = await self._exchange(subject, payload, headers, wait)
                break
            except NoRespondersError:
                if not rpc.resend or deadline - time.monotonic() < NO_RESPONDERS_PAUSE:
                    raise Unavailable(f"the {rpc.service} service is not running (no responders)") from None
                await asyncio.sleep(NO_RESPONDERS_PAUSE)
            except NatsTimeout:
                if not rpc.resend or deadline - time.monotonic() <= 0.05:
                    raise ArkiveError(
                        f"the {rpc.service} service did not answer {rpc.name} in {timeout:g}s", Code.DEADLINE_EXCEEDED
                    ) from None
                log.info("no answer to %s within %g s; sending it again", rpc, RESEND_AFTER)
        reply = tr.reply_decoder.decode(data)
        if not reply.ok:
            raise error_from(reply.code, reply.message)
        decoder = self._decoders.get(rpc.response)
        if decoder is None:
            decoder = self._decoders[rpc.response] = msgspec.msgpack.Decoder(rpc.response)
        result: Resp = decoder.decode(reply.result)
        return result

    async def _exchange(
        self, subject: str, payload: bytes, headers: dict[str, str] | None, wait: Callable[[], float]
    ) -> bytes:
        """Sends the request (in parts if it is larger than a NATS message) and returns the reply
        (put together from its parts)."""
        parts = tr.split(payload, tr.part_size(self._nc))
        if len(parts) == 1:
            msg = await self._nc.request(subject, payload, timeout=wait(), headers=headers)
        else:
            first = {**(headers or {}), tr.PARTS: str(len(parts))}
            msg = await self._nc.request(subject, parts[0], timeout=wait(), headers=first)
            tr.raise_failed(msg)
            target = (msg.headers or {})[tr.TRANSFER]
            for index, part in enumerate(parts[1:], 1):
                msg = await self._nc.request(target, part, timeout=wait(), headers={tr.PART: str(index)})
                if index < len(parts) - 1:
                    tr.raise_failed(msg)
        count = int((msg.headers or {}).get(tr.PARTS, "1"))
        if count == 1:
            return msg.data
        source = (msg.headers or {})[tr.TRANSFER]
        received = [msg.data]
        for index in range(1, count):
            part_msg = await self._nc.request(source, b"", timeout=wait(), headers={tr.PART: str(index)})
            tr.raise_failed(part_msg)
            received.append(part_msg.data)
        return b"".join(received)
