"""gRPC plumbing: the channel, turning gRPC failures into arkive errors, and the retry policy of
idempotent calls.

Riding out a gateway restart takes three things together: a channel that tries to reconnect at
least every RECONNECT_BACKOFF_MS (grpc's default backoff grows to 120 s, so a client kept waiting
long after the gateway was back), calls that wait for the channel to connect instead of failing
at once (Retry.connect, wait_for_ready), and retries of idempotent calls bounded by one deadline
per call (ARKIVE_RETRY_DEADLINE, 60 s by default) rather than a count of attempts. Each channel has its own
subchannel pool: grpc otherwise shares a connection (and its backoff state) between every channel
to the same address with the same options, so a new Client inherited a stuck one.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

import grpc
from arkive_core.errors import ArkiveError, Code, InvalidArgument, error_from

from ._defaults import DEFAULT_GATEWAY, DEFAULT_PROJECT
from ._keyed import KeyedChannel, bearer_interceptors  # noqa: F401 (bearer_interceptors: for tests and tools)
from ._tls import TLS_PROBE_AFTER, channel_credentials, refuse_tls_failure

MAX_MESSAGE_BYTES = 32 * 1024 * 1024

# Sent again only by idempotent calls (see CALL_KINDS): UNAVAILABLE is a gateway restarting or a
# dropped connection, DEADLINE_EXCEEDED a lost answer (e.g. a service replica died mid-request),
# ABORTED the server's own "too much contention, retry the command".
RETRY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED})
RETRY_DEADLINE_ENV = "ARKIVE_RETRY_DEADLINE"
DEFAULT_RETRY_DEADLINE = 60.0  # seconds from a call's first attempt to its last (waits included)
RETRY_BASE_DELAY = 0.1  # seconds; doubled per attempt, jittered, capped below
RETRY_MAX_DELAY = 2.0
RETRY_ATTEMPTS = 5  # direct transfers' HTTP attempts to S3 before falling back to the gateway
RECONNECT_BACKOFF_MS = 2_000  # the channel's reconnect backoff never grows beyond this
IDEMPOTENT_CALL_TIMEOUT = 60.0  # per attempt: long enough for a big finish, short enough to retry
KEEPALIVE_MS = 20_000  # >= the gateway's KEEPALIVE_MIN_INTERVAL_MS (server.py), or it sends GOAWAY

# How each unary call of the SDK is sent. "idempotent": sending it again after an unknown outcome
# changes nothing, so it is retried within the deadline; every read-only query is one.
# "once": a retry could do the work twice or fail on the first attempt's effect; sent one time.
IDEMPOTENT = "idempotent"
ONCE = "once"
READ_ONLY_CALLS = """
    GetVersion FindVersionByManifest ListVersions ListArtifacts ListFiles ListDrafts FindMissingBlobs
    DownloadBlob DownloadBlobs GetDownloadUrls GetBlobStats SearchVersions ListLinks GetRun ListRuns
    LookupCache GetLineage DownloadReference ListPolicies PlanRetention GetStorageReport
    ListAliases DiffFiles GetVersionTtl ListDeadLetters ListProjects GetStatus
""".split()
# A repeat would do the work again, or fail on the first attempt's effect (AbortDraft and
# RemoveFiles answer FAILED_PRECONDITION / NOT_FOUND the second time).
ONCE_CALLS = """
    AbortDraft RemoveFiles StartRun FinishRun UseArtifact RecordCacheKey UpdateVersion RegisterObjects
    DeleteVersion DeleteCollection UndeleteVersion UndeleteCollection RemovePolicy ApplyRetention
    CollectGarbage RebuildProjections UnlinkVersion
""".split()
CALL_KINDS: dict[str, str] = {
    **dict.fromkeys(READ_ONLY_CALLS, IDEMPOTENT),
    # Writes the server makes idempotent.
    "CreateDraft": IDEMPOTENT,  # by its request id: a retry gets the draft the first attempt made
    "UploadBlob": IDEMPOTENT,  # content-addressed: the same bytes under the same digest
    "UploadBlobs": IDEMPOTENT,
    "ComposeBlob": IDEMPOTENT,
    "StartDirectUpload": IDEMPOTENT,  # a fresh presigned URL; an unused one just expires
    "FinishDirectUpload": IDEMPOTENT,  # registering the same object again answers "already present"
    "AddFiles": IDEMPOTENT,  # entries are keyed by path: the same entries again change nothing
    "AddReferences": IDEMPOTENT,  # upserted by path (the gateway resolves the sources again)
    "CommitDraft": IDEMPOTENT,  # a committed draft answers with its version and `created`
    "AssignAliases": IDEMPOTENT,  # moving an alias onto the version it is on changes nothing
    "LinkVersion": IDEMPOTENT,  # linking the same version again creates nothing
    "UpsertFiles": IDEMPOTENT,  # by distributed id
    "FinishDistributed": IDEMPOTENT,  # a finished distributed draft answers with its version
    "SetVersionTtl": IDEMPOTENT,
    "SetDefaultTtl": IDEMPOTENT,
    "PutPolicy": IDEMPOTENT,  # by policy name
    "HeartbeatRun": IDEMPOTENT,
    "ScrubBlobs": IDEMPOTENT,  # re-reads a page of objects; what was found corrupt stays found
    "ReportCorruptBlobs": IDEMPOTENT,  # the server re-reads the blobs itself; a repeat finds the same
    "SetAliases": IDEMPOTENT,  # adding an alias a version holds, removing one it lacks: no change
    "CheckConsumers": IDEMPOTENT,  # re-drives only what is still missing, exactly once
    "RetryDeadLetter": ONCE,  # a repeat after success answers NOT_FOUND (the letter is gone)
    # access: reads, and changes that set a state (a repeat finds it set); CreateToken is ONCE (a
    # retry would issue a second token)
    **dict.fromkeys("WhoAmI ListTokens ListAuditEvents RevokeToken GrantRole RevokeRole".split(), IDEMPOTENT),
    "CreateToken": ONCE,
    **dict.fromkeys(ONCE_CALLS, ONCE),
}


def call_kind(method: Any) -> str:
    """IDEMPOTENT or ONCE for a grpc.aio multicallable (by its method name; ONCE if unknown)."""
    path = getattr(method, "_method", b"")  # b"/arkive.v1.ArtifactService/GetVersion"
    name = (path.decode() if isinstance(path, bytes) else str(path)).rsplit("/", 1)[-1]
    return CALL_KINDS.get(name, ONCE)


def check_retry_deadline(seconds: float) -> float:
    if not 0 <= seconds < float("inf"):
        raise InvalidArgument(f"retry deadline must be >= 0 seconds, got {seconds!r}")
    return float(seconds)


def default_retry_deadline() -> float:
    """ARKIVE_RETRY_DEADLINE (seconds) or DEFAULT_RETRY_DEADLINE."""
    raw = os.environ.get(RETRY_DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_RETRY_DEADLINE
    try:
        return check_retry_deadline(float(raw))
    except ValueError:
        raise InvalidArgument(f"{RETRY_DEADLINE_ENV} must be a number of seconds, got {raw!r}") from None


def retry_delay(attempt: int) -> float:
    """Pause before retry number `attempt + 1`: exponential, capped at RETRY_MAX_DELAY, with jitter
    so that many workers failing together do not come back in lockstep."""
    return min(RETRY_BASE_DELAY * 2**attempt, RETRY_MAX_DELAY) * random.uniform(0.5, 1.0)


class Retry:
    """The retry budget of one operation: attempts go on until `deadline` seconds after the first.

        retry = Retry(deadline, channel)
        while True:
            await retry.connect(address)
            try:
                return await method(request, timeout=t, wait_for_ready=retry.wait)
            except grpc.aio.AioRpcError as exc:
                if not await retry.pause(exc):
                    raise retry.error(exc, address) from None

    A deadline of 0 means one attempt that fails at once when the gateway cannot be reached.
    Streams leave out wait_for_ready: one without a deadline would wait for a gateway that never
    comes back for ever; connect() bounds that wait, and a connection lost after it fails the
    attempt, which is retried.
    """

    def __init__(self, deadline: float, channel: grpc.aio.Channel | None = None) -> None:
        self.deadline = deadline
        self.end = time.monotonic() + deadline
        self.attempt = 0
        self.channel = channel
        self.wait = deadline > 0  # wait for the channel to (re)connect instead of failing at once

    @staticmethod
    def deadline_or_default(seconds: float | None) -> float:
        """`seconds` checked, or ARKIVE_RETRY_DEADLINE / DEFAULT_RETRY_DEADLINE when None."""
        return default_retry_deadline() if seconds is None else check_retry_deadline(seconds)

    @classmethod
    def of(cls, stub: Any) -> Retry:
        """The budget a stub carries (BlobStub: the client's retry deadline and channel)."""
        deadline = getattr(stub, "retry_deadline", None)
        return cls(default_retry_deadline() if deadline is None else deadline, getattr(stub, "channel", None))

    async def connect(self, address: str) -> None:
        """Before an attempt: waits until the channel is connected, at most until the deadline (so
        a call's own timeout is spent on the call, not on waiting for the gateway), and raises
        Unavailable if it is not by then. With a deadline of 0 (or no channel known) the attempt
        itself finds out."""
        if not self.wait or self.channel is None:
            return
        if self.channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
            return
        ready = asyncio.ensure_future(self.channel.channel_ready())
        try:
            # A refused TLS handshake never heals by waiting: after the first failed connection,
            # one probe reads why, so a wrong CA fails at once instead of after the whole deadline.
            done, _ = await asyncio.wait({ready}, timeout=min(TLS_PROBE_AFTER, self.deadline))
            if not done and self.channel.get_state() == grpc.ChannelConnectivity.TRANSIENT_FAILURE:
                await refuse_tls_failure(self.channel, address)
            await asyncio.wait_for(ready, max(self.end - time.monotonic(), 0.0))
        except TimeoutError:
            raise unreachable(address, f"not connected within the retry deadline ({self.deadline:g} s)") from None
        finally:
            ready.cancel()

    async def pause(self, exc: grpc.aio.AioRpcError) -> bool:
        """After a failed attempt: False if `exc` is final (not in RETRY_CODES, or the budget is
        spent); else waits the backoff and returns True."""
        if exc.code() not in RETRY_CODES:
            return False
        delay = retry_delay(self.attempt)
        self.attempt += 1
        if time.monotonic() + delay >= self.end:
            return False
        await asyncio.sleep(delay)
        return True

    def error(self, exc: grpc.aio.AioRpcError, address: str) -> ArkiveError:
        """rpc_error, where a call that timed out waiting for a lost connection reads as UNAVAILABLE."""
        lost = (
            exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            and self.channel is not None
            and self.channel.get_state() != grpc.ChannelConnectivity.READY
        )
        return rpc_error(exc, address, lost_connection=lost)


def default_address() -> str:
    return os.environ.get("ARKIVE_GATEWAY_ADDR") or DEFAULT_GATEWAY


def default_project() -> str:
    return os.environ.get("ARKIVE_PROJECT") or DEFAULT_PROJECT


CHANNEL_OPTIONS: list[tuple[str, int]] = [
    # Servers may pick larger download chunks than grpc's 4 MiB default allows.
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Reconnect soon after a gateway restart: grpc's default backoff grows to 120 s.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
    # Pings find a connection whose peer vanished without a FIN/RST (a dead host, a NAT that forgot
    # it) and keep NATs open through quiet uploads; the gateway permits this rate (server.py).
    ("grpc.keepalive_time_ms", KEEPALIVE_MS),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # This channel's own connections: never one another channel left in a long reconnect backoff.
    ("grpc.use_local_subchannel_pool", 1),
]


def open_channel(address: str, api_key: str = "") -> grpc.aio.Channel:
    """A channel to the gateway (connects lazily, on the first call); TLS per the environment
    (_tls.py); every call carries `api_key` (ARKIVE_API_KEY or the credentials file, see
    arkive_core.credentials)."""
    credentials = channel_credentials()  # TLS when ARKIVE_TLS_CA / ARKIVE_TLS say so
    if credentials is not None:
        channel = grpc.aio.secure_channel(address, credentials, options=CHANNEL_OPTIONS)
    else:
        channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    return KeyedChannel(channel, api_key) if api_key else channel


def unreachable(address: str, details: str = "") -> ArkiveError:
    hint = f"cannot reach the arkive gateway at {address} "
    hint += "(is `arkive up` running? set ARKIVE_GATEWAY_ADDR or --gateway)"
    return error_from("UNAVAILABLE", f"{hint}: {details}" if details else hint)


def rpc_error(exc: grpc.aio.AioRpcError, address: str, *, lost_connection: bool = False) -> ArkiveError:
    """The ArkiveError subclass for a failed call, with a message a user can act on."""
    code = exc.code()
    name = "UNAVAILABLE" if lost_connection else (code.name if code is not None else "UNKNOWN")
    details = exc.details() or ""
    if name == "UNAVAILABLE":
        return unreachable(address, details)
    elif name == "UNAUTHENTICATED":
        details = f"{details} (set ARKIVE_API_KEY or run `arkive login`)"
    if name not in Code.__members__:
        # UNIMPLEMENTED, CANCELLED, UNKNOWN...: keep the gRPC name visible in the message.
        details = f"{name}: {details}"
    return error_from(name, details)


async def call_idempotent(method: Any, request: Any, address: str, timeout: float, retry: Retry | None = None) -> Any:
    """A unary call that is safe to repeat: waits for the channel and is retried with backoff on
    RETRY_CODES until the retry deadline (`timeout` per attempt)."""
    retry = retry or Retry(default_retry_deadline())
    while True:
        await retry.connect(address)
        try:
            return await method(request, timeout=timeout, wait_for_ready=retry.wait)
        except grpc.aio.AioRpcError as exc:
            if not await retry.pause(exc):
                raise retry.error(exc, address) from None


async def call_once(method: Any, request: Any, address: str, timeout: float, retry: Retry | None = None) -> Any:
    """A unary call that is not safe to repeat: sent once, but (like every call) it waits for a
    reconnecting channel up to the retry deadline, which sends nothing twice."""
    retry = retry or Retry(default_retry_deadline())
    await retry.connect(address)
    try:
        return await method(request, timeout=timeout, wait_for_ready=retry.wait)
    except grpc.aio.AioRpcError as exc:
        raise retry.error(exc, address) from None


async def call(method: Any, request: Any, address: str, timeout: float, retry: Retry) -> Any:
    """call_idempotent or call_once, as CALL_KINDS says of `method`."""
    send = call_idempotent if call_kind(method) == IDEMPOTENT else call_once
    return await send(method, request, address, timeout, retry)


# A feature the server has off (FAILED_PRECONDITION) or predates (UNIMPLEMENTED).
NOT_OFFERED = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED)


async def call_if_offered(method: Any, request: Any, address: str, timeout: float, retry: Retry) -> Any | None:
    """call_idempotent, but None when the server does not offer the call (NOT_OFFERED): the caller
    then does without it (direct transfers fall back to streaming through the gateway)."""
    while True:
        await retry.connect(address)
        try:
            return await method(request, timeout=timeout, wait_for_ready=retry.wait)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in NOT_OFFERED:
                return None
            if not await retry.pause(exc):
                raise retry.error(exc, address) from None
