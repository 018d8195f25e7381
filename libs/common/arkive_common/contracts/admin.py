"""The methods every service answers (ping, rebuild) and those of a service that consumes events
(dead letters, consumer checks): one definition, instantiated in each service's contract."""

from __future__ import annotations

from .. import api
from .. import api_consumers as ac
from ..contract import Rpc, Timeout


def ping(service: str) -> Rpc[api.Empty, api.Pong]:
    return Rpc(service, "ping", api.Empty, api.Pong, resend=True)


def rebuild(service: str) -> Rpc[api.Empty, api.RebuildResult]:
    return Rpc(service, "rebuild_projections", api.Empty, api.RebuildResult, timeout=Timeout.BULK)


def dead_letters(service: str) -> Rpc[api.Empty, ac.DeadLetterList]:
    return Rpc(service, "dead_letters", api.Empty, ac.DeadLetterList)


def retry_dead_letter(service: str) -> Rpc[ac.RetryDeadLetter, ac.RetryResult]:
    return Rpc(service, "retry_dead_letter", ac.RetryDeadLetter, ac.RetryResult)


def check_consumers(service: str) -> Rpc[api.Empty, ac.CheckResult]:
    return Rpc(service, "check_consumers", api.Empty, ac.CheckResult, timeout=Timeout.BULK)
