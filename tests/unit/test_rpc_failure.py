"""What a bus caller sees of an unexpected exception: an outage of a dependency, however wrapped,
is UNAVAILABLE (callers retry); a bug is INTERNAL with an incident id."""

from __future__ import annotations

import asyncpg
import pytest
from arkive_core.errors import Code

from arkive_common.rpc_failure import failure


def _raised_from(outer: Exception, inner: BaseException) -> Exception:
    try:
        raise outer from inner
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InterfaceError("connection is closed"),
        ExceptionGroup("task group", [ConnectionResetError(104, "reset")]),
        _raised_from(RuntimeError("could not connect"), FileNotFoundError(2, "no socket")),
        ExceptionGroup("outer", [_raised_from(ValueError("wrapped"), asyncpg.CannotConnectNowError("starting"))]),
    ],
    ids=["oserror", "starting-up", "closed", "group", "raised-from", "nested"],
)
def test_an_outage_is_unavailable_however_it_is_wrapped(exc: Exception) -> None:
    code, message = failure(exc, "ingest.create_draft")
    assert code == Code.UNAVAILABLE and "try again" in message


def test_a_bug_raised_while_handling_an_outage_is_still_internal() -> None:
    try:
        try:
            raise FileNotFoundError(2, "gone")
        except FileNotFoundError:
            {}["missing"]  # a bug in an except block: implicit context, not a cause
    except KeyError as exc:
        code, message = failure(exc, "ingest.create_draft")
    assert code == Code.INTERNAL and "incident" in message
