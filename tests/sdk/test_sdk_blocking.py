"""The blocking SDK is generated from the async one (arkive/_blocking.py): every AsyncClient method
has its blocking twin with the same signature and docstring, and the stubs editors read are current."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

import arkive
from arkive._blocking import adapts, blocking, blocking_doc
from arkive._loop import LoopThread
from arkive.client import ASYNC_ONLY
from arkive.run import Cache, Run
from arkive.runs import AsyncRun, StepCache

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def public_async_members(cls: type) -> dict[str, Any]:
    out = {}
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if not name.startswith("_") and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)):
            out[name] = member
    return out


@pytest.mark.parametrize(
    ("async_cls", "sync_cls", "skip"),
    [(arkive.AsyncClient, arkive.Client, ASYNC_ONLY), (AsyncRun, Run, ()), (StepCache, Cache, ())],
)
def test_every_async_method_has_a_blocking_twin_with_its_signature_and_doc(
    async_cls: type, sync_cls: type, skip: Any
) -> None:
    methods = public_async_members(async_cls)
    assert len(methods) > (50 if async_cls is arkive.AsyncClient else 0)
    for name, fn in methods.items():
        if name in skip:
            assert not hasattr(sync_cls, name)
            continue
        twin = getattr(sync_cls, name)
        assert not inspect.iscoroutinefunction(twin), name
        a, b = inspect.signature(fn), inspect.signature(twin)
        assert list(a.parameters.values()) == list(b.parameters.values()), name
        if name not in ("close",):  # Client.close is its own (it also stops the loop thread)
            assert twin.__doc__ == blocking_doc(fn.__doc__) and twin.__name__ == name, name
    sig = inspect.signature
    assert sig(arkive.Client.files).return_annotation == "Iterator[FileInfo]"
    assert sig(arkive.Client.run).return_annotation == "Run"
    assert sig(arkive.Client.log_artifact).return_annotation == "ArtifactVersion"
    assert arkive.Client.log_artifact.__qualname__ == "Client.log_artifact"


def test_the_stubs_are_up_to_date() -> None:
    # client.pyi and run.pyi: what editors and mypy see of the generated methods.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_sdk_stubs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    stub = (ROOT / "libs" / "sdk" / "arkive" / "client.pyi").read_text()
    assert (
        "    def log_artifact(\n" in stub
        and "def files(self, ref: VersionRef, *, path_prefix: str | None = ...) -> Iterator[FileInfo]:" in stub
    )


# ---- the wrapper on a class of its own -----------------------------------------------------------


class AsyncPart:
    def __init__(self, n: int) -> None:
        self.n = n

    async def double(self) -> int:
        return 2 * self.n


class AsyncThing:
    def __init__(self) -> None:
        self.closed_early = False

    async def add(self, a: int, b: int = 1, *, times: int = 1) -> int:
        """Adds."""
        return (a + b) * times

    async def fail(self) -> None:
        raise ValueError("no")

    async def part(self, n: int) -> AsyncPart:
        return AsyncPart(n)

    async def count(self, n: int) -> AsyncIterator[int]:
        try:
            for i in range(n):
                yield i
        except GeneratorExit:
            self.closed_early = True
            raise

    @property
    def first(self) -> AsyncPart:
        return AsyncPart(1)


class OnLoop:
    def __init__(self, owner: Any, wrapped: Any) -> None:
        self._owner, self._async = owner, wrapped

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._owner._run(coro)


@adapts(AsyncPart)
@blocking(AsyncPart)
class Part(OnLoop):
    pass


@blocking(AsyncThing)
class Thing:
    def __init__(self, loop: LoopThread) -> None:
        self._async, self._loop = AsyncThing(), loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)


@pytest.fixture
def thing() -> Any:
    loop = LoopThread()
    yield Thing(loop)
    loop.stop()


def test_docstrings_lose_async_and_await() -> None:
    assert blocking_doc("`async with await client.run()`; `async for f in client.files(v)`; `await x.y()`") == (
        "`with client.run()`; `for f in client.files(v)`; `x.y()`"
    )
    assert arkive.Client.run.__doc__ is not None and "await" not in arkive.Client.run.__doc__


def test_generated_methods_run_on_the_loop_and_adapt_their_results(thing: Any) -> None:
    assert thing.add(2, times=3) == 9 and thing.add.__doc__ == "Adds."
    assert str(inspect.signature(Thing.add)) == "(self, a: 'int', b: 'int' = 1, *, times: 'int' = 1) -> 'int'"
    with pytest.raises(ValueError, match="no"):
        thing.fail()
    part = thing.part(5)
    assert isinstance(part, Part) and part.double() == 10  # an async object comes back blocking
    assert inspect.signature(Thing.part).return_annotation == "Part"
    assert isinstance(thing.first, Part) and thing.first.double() == 2  # properties too


def test_async_generators_become_lazy_iterators_closed_when_dropped(thing: Any) -> None:
    assert list(thing.count(4)) == [0, 1, 2, 3]
    assert inspect.signature(Thing.count).return_annotation == "Iterator[int]"
    it = thing.count(10)
    assert next(it) == 0 and next(it) == 1
    it.close()  # the async generator is closed on the loop, not left pending
    assert thing._async.closed_early


# ---- AsyncClient: features, not mixins; one LogOptions for every log --------------------------


def test_async_client_is_composed_of_features_made_once_on_first_use(fake_gateway: Any) -> None:
    from arkive._feature import Feature
    from arkive.retention import Retention

    assert arkive.AsyncClient.__mro__ == (arkive.AsyncClient, object)  # no mixins
    assert (
        inspect.signature(arkive.AsyncClient.delete).parameters.keys()
        == inspect.signature(Retention.delete).parameters.keys()
    )
    assert arkive.AsyncClient.delete.__doc__ == Retention.delete.__doc__
    client = arkive.AsyncClient(fake_gateway.address, project="demo")
    assert client._features == {}
    retention = client._feature(Retention)
    assert (
        isinstance(retention, Feature)
        and client._feature(Retention) is retention
        and list(client._features) == [Retention]
    )


def test_log_options_are_checked_once_and_carried_as_keywords() -> None:
    from arkive_core.errors import InvalidArgument

    from arkive._log_options import LogOptions

    options = LogOptions(("best",), ["raw"], None, "run-1").checked()
    assert options.keywords() == {"aliases": ["best"], "tags": ["raw"], "label": "", "run_id": "run-1"}
    with pytest.raises(InvalidArgument, match="alias"):
        LogOptions(aliases=["no spaces allowed"]).checked()
    with pytest.raises(InvalidArgument):
        LogOptions(tags=[""]).checked()
