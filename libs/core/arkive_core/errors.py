"""Errors that cross process boundaries: a code (named after gRPC status codes) and a message.

Services raise them, the bus carries them back to the caller as data, the gateway turns them into
gRPC statuses and the SDK raises them again, so one vocabulary serves every hop.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    ABORTED = "ABORTED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    INTERNAL = "INTERNAL"
    DATA_LOSS = "DATA_LOSS"


class ArkiveError(Exception):
    """An error with a status code that callers can act on."""

    code: Code = Code.INTERNAL

    def __init__(self, message: str, code: Code | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message})"


class InvalidArgument(ArkiveError):
    code = Code.INVALID_ARGUMENT


class NotFound(ArkiveError):
    code = Code.NOT_FOUND


class AlreadyExists(ArkiveError):
    code = Code.ALREADY_EXISTS


class FailedPrecondition(ArkiveError):
    code = Code.FAILED_PRECONDITION


class PermissionDenied(ArkiveError):
    code = Code.PERMISSION_DENIED


class Unauthenticated(ArkiveError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    code = Code.UNAUTHENTICATED


class Unavailable(ArkiveError):
    code = Code.UNAVAILABLE


class Conflict(ArkiveError):
    """Optimistic concurrency: the stream moved on since it was read. Retry the command."""

    code = Code.ABORTED


class DataLoss(ArkiveError):
    """Bytes that do not hash to what they should (a corrupt stored blob); `digests` names them."""

    code = Code.DATA_LOSS

    def __init__(self, message: str, code: Code | None = None, *, digests: list[str] | None = None) -> None:
        super().__init__(message, code)
        self.digests = list(digests or [])


_BY_CODE: dict[Code, type[ArkiveError]] = {
    Code.INVALID_ARGUMENT: InvalidArgument,
    Code.NOT_FOUND: NotFound,
    Code.ALREADY_EXISTS: AlreadyExists,
    Code.FAILED_PRECONDITION: FailedPrecondition,
    Code.UNAVAILABLE: Unavailable,
    Code.PERMISSION_DENIED: PermissionDenied,
    Code.UNAUTHENTICATED: Unauthenticated,
    Code.ABORTED: Conflict,
    Code.DATA_LOSS: DataLoss,
}


def error_from(code: str, message: str) -> ArkiveError:
    """Rebuilds the most specific error class for a code received from another process."""
    try:
        c = Code(code)
    except ValueError:
        c = Code.INTERNAL
    cls = _BY_CODE.get(c, ArkiveError)
    return cls(message, c)
