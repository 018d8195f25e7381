"""What a caller sees of an exception that is not an ArkiveError: a dependency outage becomes
UNAVAILABLE (retried by callers), a lost race ABORTED, a refused value INVALID_ARGUMENT, anything
else INTERNAL with an incident id (the details go to the log of the service that failed)."""

from __future__ import annotations

import logging
import uuid

import asyncpg
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from .errors import Code

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
