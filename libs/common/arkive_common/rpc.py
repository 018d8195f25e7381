"""Commands and queries between processes: NATS request-reply with msgspec payloads.

A command has exactly one handler: every replica of the owning service subscribes in one queue
group, and NATS hands each request to one of them. Errors travel back as (code, message) and are
raised again at the caller, so a FAILED_PRECONDITION in ingest reaches the gRPC client as one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from .bus import rpc_subject
from .errors import ArkiveError, Code, Unavailable, error_from

log = logging.getLogger(__name__)


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    result: msgspec.Raw = msgspec.Raw(b"\xc0")  # msgpack nil
    code: str = ""
    message: str = ""


_reply_decoder = msgspec.msgpack.Decoder(Reply)
_encoder = msgspec.msgpack.Encoder()


@dataclass(frozen=True, slots=True)
class Method:
    request_type: type
    handler: Callable[[Any], Awaitable[Any]]


class RpcServer:
    """Serves the methods of one service on `<prefix>.rpc.<service>.<method>` in queue group <service>."""

    def __init__(
        self, nc: NATS, prefix: str, service: str, methods: dict[str, Method], *, concurrency: int = 64
    ) -> None:
        self._nc = nc
        self._prefix = prefix
        self._service = service
        self._methods = methods
        self._limit = asyncio.Semaphore(concurrency)
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for name, method in self._methods.items():
            decoder = msgspec.msgpack.Decoder(method.request_type)

            async def on_msg(msg: Msg, method: Method = method, decoder=decoder, name=name) -> None:
                # Callbacks of one subscription run one at a time: hand each request to a task.
                task = asyncio.create_task(self._serve(msg, method, decoder, name))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

            sub = await self._nc.subscribe(
                rpc_subject(self._prefix, self._service, name), queue=self._service, cb=on_msg
            )
            self._subs.append(sub)
        await self._nc.flush()

    async def _serve(self, msg: Msg, method: Method, decoder: msgspec.msgpack.Decoder, name: str) -> None:
        async with self._limit:
            try:
                request = decoder.decode(msg.data)
                result = await method.handler(request)
                reply = Reply(ok=True, result=msgspec.Raw(_encoder.encode(result)))
            except msgspec.ValidationError as exc:
                reply = Reply(ok=False, code=Code.INVALID_ARGUMENT.value, message=f"malformed request: {exc}")
            except ArkiveError as exc:
                reply = Reply(ok=False, code=exc.code.value, message=exc.message)
            except Exception as exc:
                log.exception("%s.%s failed", self._service, name)
                reply = Reply(ok=False, code=Code.INTERNAL.value, message=f"internal error: {exc}")
            if msg.reply:
                try:
                    await msg.respond(_encoder.encode(reply))
                except Exception as exc:  # the caller gave up or NATS is away; it will retry
                    log.warning("%s.%s: could not reply: %s", self._service, name, exc)

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
        self._decoders: dict[type, msgspec.msgpack.Decoder] = {}

    async def call(self, service: str, method: str, request: Any, result_type: type, *, timeout: float = 30.0) -> Any:
        subject = rpc_subject(self._prefix, service, method)
        try:
            msg = await self._nc.request(subject, _encoder.encode(request), timeout=timeout)
        except NoRespondersError:
            raise Unavailable(f"the {service} service is not running (no responders)") from None
        except NatsTimeout:
            raise ArkiveError(
                f"the {service} service did not answer {method} in {timeout:g}s", Code.DEADLINE_EXCEEDED
            ) from None
        reply = _reply_decoder.decode(msg.data)
        if not reply.ok:
            raise error_from(reply.code, reply.message)
        decoder = self._decoders.get(result_type)
        if decoder is None:
            decoder = self._decoders[result_type] = msgspec.msgpack.Decoder(result_type)
        return decoder.decode(reply.result)
