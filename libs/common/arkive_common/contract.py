"""Typed bus contracts: one `Rpc[Request, Response]` per bus method, declared in the owning
service's contract module (arkive_common.contracts.<service>), used by both sides:

    reply = await bus.call(INGEST.get_version, api.GetVersion(ref))   # reply: api.VersionView
    handlers.handle(INGEST.get_version, get_version)                  # (GetVersion) -> VersionView

A contract module imports only msgspec types, so a caller never imports the service's package.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class Timeout(float, Enum):
    """How long a caller waits by default, by the kind of work a method does (seconds)."""

    FAST = 10.0  # a lookup on every gRPC call (auth): fail fast rather than pile up
    DEFAULT = 30.0  # one row or one page
    LONG = 120.0  # many rows in one transaction (delete a collection, usage of a project)
    BULK = 600.0  # a whole projection or plan (rebuild, consumer checks, retention apply)


@dataclass(frozen=True, slots=True)
class Rpc(Generic[Req, Resp]):
    """A bus method: `<prefix>.rpc.<service>.<name>`, request and reply types. `resend`: the same
    request handled twice gives the same outcome (a query, or a command keyed by what it carries),
    so the bus may send it again when a replica does not answer (see rpc.RpcClient.call)."""

    service: str
    name: str
    request: type[Req]
    response: type[Resp]
    resend: bool = False
    timeout: float = Timeout.DEFAULT

    def __str__(self) -> str:
        return f"{self.service}.{self.name}"


class Contract:
    """A service's contract: its name, the services it calls (checked by tests/unit/test_call_graph.py
    against the code) and its Rpc class attributes."""

    service: str = ""
    calls: tuple[str, ...] = ()

    def rpcs(self) -> Iterator[Rpc[Any, Any]]:
        for klass in reversed(type(self).__mro__):
            for value in vars(klass).values():
                if isinstance(value, Rpc):
                    yield value


Handler = Callable[[Req], Awaitable[Resp]]


@dataclass(frozen=True, slots=True)
class Registered:
    rpc: Rpc[Any, Any]
    handler: Callable[[Any], Awaitable[Any]]


class Handlers:
    """The methods one service serves, registered before it connects (RpcServer serves them)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.by_name: dict[str, Registered] = {}

    def handle(self, rpc: Rpc[Req, Resp], handler: Handler[Req, Resp]) -> None:
        """Registers `handler` for `rpc`: refused if the method is another service's, registered
        twice, or if the handler's annotations name other types than the contract's."""
        if rpc.service != self.service:
            raise ValueError(f"{self.service} cannot serve {rpc}: it belongs to {rpc.service}")
        if rpc.name in self.by_name:
            raise ValueError(f"{rpc} is registered twice")
        check_handler(rpc, handler)
        self.by_name[rpc.name] = Registered(rpc, handler)


def check_handler(rpc: Rpc[Any, Any], handler: Callable[..., Any]) -> None:
    """The handler's annotated request and reply types (where annotated) must be the contract's."""
    try:
        hints = typing.get_type_hints(handler)
    except Exception:  # an annotation that does not resolve here: mypy still checks the call
        return
    params = [p for p in inspect.signature(handler).parameters.values() if p.default is inspect.Parameter.empty]
    if len(params) != 1:
        raise TypeError(f"a handler of {rpc} takes one request argument, not {len(params)}")
    got = hints.get(params[0].name)
    if got is not None and got is not rpc.request:
        raise TypeError(f"the handler of {rpc} takes {got!r}, the contract sends {rpc.request!r}")
    returns = hints.get("return")
    if returns is not None and returns is not rpc.response:
        raise TypeError(f"the handler of {rpc} returns {returns!r}, the contract replies {rpc.response!r}")
