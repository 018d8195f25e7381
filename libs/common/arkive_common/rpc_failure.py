"""What a caller sees of an exception that is not an ArkiveError: a dependency outage becomes
UNAVAILABLE (retried by callers), a lost race ABORTED, a refused value INVALID_ARGUMENT, anything
else INTERNAL with an incident id (the details go to the log of the service that failed)."""

from __future__ import annotations

import logging
import uuid

import asyncpg
from arkive_core.errors import Code
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

log = logging.getLogger(__name__)
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


def _chain(exc: BaseException) -> list[BaseException]:
    """exc, the members of an exception group, and what each was raised from (`raise X from Y`): an
    outage may surface wrapped (a TaskGroup's group, a library's own error raised from OSError).
    Not the implicit context: a bug raised while handling an OSError is still a bug."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 32:
        e = todo.pop()
        if any(e is s for s in seen):
            continue
        seen.append(e)
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        if e.__cause__ is not None:
            todo.append(e.__cause__)
    return seen


def _outage(exc: BaseException) -> BaseException | None:
    return next((e for e in _chain(exc) if isinstance(e, _OUTAGES) or _transient_sqlstate(e)), None)


def failure(exc: Exception, where: str) -> tuple[Code, str]:
    """The code and message a caller sees for an exception that is not an ArkiveError."""
    if isinstance(exc, asyncpg.DataError):  # SQLSTATE class 22: the database refused a value sent to it
        log.warning("%s: a value was refused by the database: %s", where, exc)
        return Code.INVALID_ARGUMENT, f"{where}: a value in the request cannot be stored (too large or not valid text)"
    if (cause := _outage(exc)) is not None:
        log.warning("%s: a dependency is unavailable: %s: %s", where, type(cause).__name__, cause)
        return Code.UNAVAILABLE, f"{where}: a storage dependency is unavailable (restarting?); try again"
    if isinstance(exc, _CONFLICTS):  # lost a race that the handler did not retry: the caller may
        log.info("%s: conflict: %s", where, exc)
        return Code.ABORTED, f"{where}: conflict with a concurrent change; try again"
    incident = uuid.uuid4().hex[:12]
    log.error("%s failed (incident %s)", where, incident, exc_info=exc)
    return Code.INTERNAL, f"internal error in {where} (incident {incident}; the details are in its log)"
