"""Commands and queries between processes: NATS request-reply with msgspec payloads.

A command has exactly one handler: every replica of the owning service subscribes in one queue
group, and NATS hands each request to one of them. Errors travel back as (code, message) and are
raised again at the caller, so a FAILED_PRECONDITION in ingest reaches the gRPC client as one.

Any other exception is reported without its text (it may quote SQL, stored values or server
internals): the caller gets a generic message with an incident id, the details are in the log of
the service that failed. A request or reply too large for one NATS message is refused at once,
by the side that would have sent it, instead of leaving the caller to time out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from . import context, tracing
from .bus import rpc_subject
from .errors import ArkiveError, Code, InvalidArgument, Unavailable, error_from
from .rpc_observe import observed_call, observed_serve, served

log = logging.getLogger(__name__)
Result = TypeVar("Result")  # what RpcClient.call decodes the reply into (its result_type)


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: bool
    result: msgspec.Raw = msgspec.Raw(b"\xc0")  # msgpack nil
    code: str = ""
    message: str = ""


_reply_decoder = msgspec.msgpack.Decoder(Reply)
_encoder = msgspec.msgpack.Encoder()
_CONFLICTS = (asyncpg.UniqueViolationError, asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# A dependency that is restarting or unreachable (PostgreSQL killed or starting up, a pooled
# connection that died with it, S3 or the network down): the request did not happen or must be
# treated as unknown, and the caller may retry it (the SDK does for idempotent calls).
_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.InterfaceError,  # "connection is closed", ConnectionDoesNotExistError
    asyncpg.CannotConnectNowError,  # 57P03: the server is starting up
    asyncpg.OperatorInterventionError,  # 57P01/57P02: admin or crash shutdown
    OSError,  # refused, reset, timed out, no route: the network or a server going away
    EndpointConnectionError,
    ConnectionClosedError,
)


# SQLSTATE classes of a server that is going away, starting up or out of resources: 08 connection
# exception, 53 insufficient resources (too many connections while every client reconnects at once),
# 57 operator intervention (shutdown, crash shutdown, cannot connect now), 58 system error (I/O).
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def _transient_sqlstate(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None) if isinstance(exc, asyncpg.PostgresError) else None
    return isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def failure(exc: Exception, where: str) -> tuple[Code, str]:
    """The code and message a caller sees for an exception that is not an ArkiveError."""
    if isinstance(exc, asyncpg.DataError):  # SQLSTATE class 22: the database refused a value sent to it
        log.warning("%s: a value was refused by the database: %s", where, exc)
        return Code.INVALID_ARGUMENT, f"{where}: a value in the request cannot be stored (too large or not valid text)"
    if isinstance(exc, _OUTAGES) or _transient_sqlstate(exc):
        log.warning("%s: a dependency is unavailable: %s: %s", where, type(exc).__name__, exc)
        return Code.UNAVAILABLE, f"{where}: a storage dependency is unavailable (restarting?); try again"
    if isinstance(exc, _CONFLICTS):  # lost a race that the handler did not retry: the caller may
        log.info("%s: conflict: %s", where, exc)
        return Code.ABORTED, f"{where}: conflict with a concurrent change; try again"
    incident = uuid.uuid4().hex[:12]
    log.error("%s failed (incident %s)", where, incident, exc_info=exc)
    return Code.INTERNAL, f"internal error in {where} (incident {incident}; the details are in its log)"


RESEND_AFTER = 5.0
"""Seconds after which a RESENDABLE request is sent again (far above their usual milliseconds)."""
NO_RESPONDERS_PAUSE = 0.2
# (service, method) that give the same outcome when the same request is handled twice: queries,
# and commands keyed by what they carry (files by path, blobs by digest, the first registration
# wins, a committed draft answers with its version, a draft by its request id, which the gateway
# always sets). Only these are re-sent by RpcClient.call.
RESENDABLE: frozenset[tuple[str, str]] = frozenset(
    [("ingest", m) for m in (
        "get_version", "find_by_manifest", "list_versions", "list_artifacts", "list_files", "list_drafts",
        "create_draft", "add_files", "commit_draft", "upsert_files", "finish_distributed",
    )]
    + [("hashing", m) for m in ("stat", "lease", "register", "register_pack", "recipe", "blob_stats", "ping")]
    + [("ingest", "ping"), ("lineage", "ping"), ("retention", "ping")]
)  # fmt: skip


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
            decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(method.request_type)

            async def on_msg(
                msg: Msg, method: Method = method, decoder: msgspec.msgpack.Decoder[Any] = decoder, name: str = name
            ) -> None:
                # Callbacks of one subscription run one at a time: hand each request to a task.
                task = asyncio.create_task(self._serve(msg, method, decoder, name))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

            sub = await self._nc.subscribe(
                rpc_subject(self._prefix, self._service, name), queue=self._service, cb=on_msg
            )
            self._subs.append(sub)
        await self._nc.flush()

    @observed_serve
    async def _serve(self, msg: Msg, method: Method, decoder: msgspec.msgpack.Decoder[Any], name: str) -> None:
        async with self._limit:
            # this task serves one request: the caller's principal and correlation id become ours
            context.CURRENT.set(context.CallContext.from_headers(msg.headers))
            try:
                request = decoder.decode(msg.data)
                result = await method.handler(request)
                reply = Reply(ok=True, result=msgspec.Raw(_encoder.encode(result)))
            except msgspec.ValidationError as exc:
                reply = Reply(ok=False, code=Code.INVALID_ARGUMENT.value, message=f"malformed request: {exc}")
            except ArkiveError as exc:
                reply = Reply(ok=False, code=exc.code.value, message=exc.message)
            except Exception as exc:
                code, message = failure(exc, f"{self._service}.{name}")
                reply = Reply(ok=False, code=code.value, message=message)
            served(reply.code)
            if msg.reply:
                data = _encoder.encode(reply)
                if len(data) > self._nc.max_payload:
                    log.error("%s.%s: reply of %d bytes does not fit the bus", self._service, name, len(data))
                    data = _encoder.encode(_too_large(f"the reply of {self._service}.{name}", len(data), self._nc))
                try:
                    await msg.respond(data)
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
        self._decoders: dict[type, msgspec.msgpack.Decoder[Any]] = {}

    @observed_call
    async def call(
        self, service: str, method: str, request: Any, result_type: type[Result], *, timeout: float = 30.0
    ) -> Result:
        """Request-reply within `timeout` seconds. A method listed in RESENDABLE is sent again when a
        replica does not answer within RESEND_AFTER seconds or none is subscribed (a replica killed
        while it held the request, or restarting), until the timeout: a request lost with its
        process costs seconds, not the whole timeout. Others are sent once."""
        subject = rpc_subject(self._prefix, service, method)
        payload = _encoder.encode(request)
        if len(payload) > self._nc.max_payload:
            too_large = _too_large(f"the request to {service}.{method}", len(payload), self._nc)
            raise InvalidArgument(too_large.message)
        call = context.CURRENT.get()
        headers = tracing.inject_headers(call.headers() if call is not None else None)  # who asked, for the events
        resend = (service, method) in RESENDABLE
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                msg = await self._nc.request(
                    subject, payload, timeout=min(left, RESEND_AFTER) if resend else left, headers=headers
                )
                break
            except NoRespondersError:
                if not resend or deadline - time.monotonic() < NO_RESPONDERS_PAUSE:
                    raise Unavailable(f"the {service} service is not running (no responders)") from None
                await asyncio.sleep(NO_RESPONDERS_PAUSE)
            except NatsTimeout:
                if not resend or deadline - time.monotonic() <= 0.05:
                    raise ArkiveError(
                        f"the {service} service did not answer {method} in {timeout:g}s", Code.DEADLINE_EXCEEDED
                    ) from None
                log.info("no answer to %s.%s within %g s; sending it again", service, method, RESEND_AFTER)
        reply = _reply_decoder.decode(msg.data)
        if not reply.ok:
            raise error_from(reply.code, reply.message)
        decoder = self._decoders.get(result_type)
        if decoder is None:
            decoder = self._decoders[result_type] = msgspec.msgpack.Decoder(result_type)
        return decoder.decode(reply.result)


def _too_large(what: str, size: int, nc: NATS) -> Reply:
    message = f"{what} is {size} bytes, more than the {nc.max_payload} bytes a bus message holds: ask for less per call"
    return Reply(ok=False, code=Code.RESOURCE_EXHAUSTED.value, message=message)
