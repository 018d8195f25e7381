"""One wrapper makes the blocking SDK from the async one: `@blocking(AsyncClient)` on Client.

Every public coroutine method of the async class becomes a blocking method of the decorated class
that runs it on the client's loop thread (`self._run`) and keeps its name, docstring and signature;
async generators become iterators fetched lazily; results that are async objects (an AsyncRun, the
step cache) come back as their blocking counterparts (see `adapts`). Versions need no adapter: the
AsyncClient makes them bound to the Client that wraps it (aclient._owner_ref).

A blocking class supplies `_async` (the object it wraps) and `_run(coro)` (runs a coroutine on the
loop); methods it defines itself win over generated ones. Editors and mypy read the generated
signatures from the stubs that scripts/gen_sdk_stubs.py writes (client.pyi, run.pyi).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound=type)

# async class -> (blocking class, factory(blocking owner, async object) -> blocking object)
_ADAPTERS: dict[type, tuple[type, Callable[[Any, Any], Any]]] = {}
_MARK = "__arkive_async_name__"  # set on generated members: the async name they run


class BlockingHost(Protocol):
    """What a generated method needs of the object it is called on."""

    @property
    def _async(self) -> Any: ...

    def _run(self, coro: Coroutine[Any, Any, T]) -> T: ...


def adapts(async_cls: type, factory: Callable[[Any, Any], Any] | None = None) -> Callable[[C], C]:
    """Registers the decorated class as the blocking counterpart of async_cls: a generated method
    whose result is an async_cls instance returns factory(self, result) (default cls(self, result))."""

    def register(cls: C) -> C:
        _ADAPTERS[async_cls] = (cls, factory or cls)
        return cls

    return register


def adapt(owner: Any, value: Any) -> Any:
    """value, or its blocking counterpart bound to owner's loop."""
    entry = _ADAPTERS.get(type(value))
    return entry[1](owner, value) if entry is not None else value


def blocking(async_cls: type, *, exclude: frozenset[str] = frozenset()) -> Callable[[C], C]:
    """Class decorator: the public coroutine methods, async generator methods and properties of
    async_cls (but those in exclude, and those the class defines) as blocking members."""

    def decorate(cls: C) -> C:
        own = {name for klass in cls.__mro__[:-1] for name in vars(klass)}
        for name in dir(async_cls):
            if name.startswith("_") or name in exclude or name in own:
                continue
            member = inspect.getattr_static(async_cls, name)
            if inspect.iscoroutinefunction(member):
                made: Any = _method(member, name)
            elif inspect.isasyncgenfunction(member):
                made = _iterator_method(member, name)
            elif isinstance(member, property):
                made = _property(member, name)
            else:
                continue
            if not isinstance(made, property):
                made.__qualname__ = f"{cls.__qualname__}.{name}"
                made.__module__ = cls.__module__
            setattr(cls, name, made)
        return cls

    return decorate


def _method(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(fn, assigned=("__name__",), updated=())
    def run(self: BlockingHost, *args: Any, **kwargs: Any) -> Any:
        return adapt(self, self._run(getattr(self._async, name)(*args, **kwargs)))

    run.__signature__ = _blocking_signature(fn)  # type: ignore[attr-defined]
    run.__doc__ = blocking_doc(fn.__doc__)
    setattr(run, _MARK, name)
    return run


def _iterator_method(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(fn, assigned=("__name__",), updated=())
    def iterate(self: BlockingHost, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return _drain(self, getattr(self._async, name)(*args, **kwargs))

    iterate.__signature__ = _blocking_signature(fn)  # type: ignore[attr-defined]
    iterate.__doc__ = blocking_doc(fn.__doc__)
    setattr(iterate, _MARK, name)
    return iterate


def _property(prop: property, name: str) -> property:
    def get(self: BlockingHost) -> Any:
        return adapt(self, getattr(self._async, name))

    get.__doc__ = blocking_doc(prop.__doc__)
    get.__annotations__ = {"return": _blocking_annotation(getattr(prop.fget, "__annotations__", {}).get("return"))}
    return property(get, doc=get.__doc__)


def _drain(host: BlockingHost, agen: AsyncIterator[Any]) -> Iterator[Any]:
    """The items of agen, each fetched on the loop when the caller asks for it."""
    try:
        while True:
            try:
                yield adapt(host, host._run(_anext(agen)))
            except StopAsyncIteration:
                return
    finally:
        if isinstance(agen, AsyncGenerator):
            try:
                host._run(agen.aclose())
            except RuntimeError:
                pass  # the client was closed meanwhile: its loop is gone, and so is the generator


async def _anext(agen: AsyncIterator[T]) -> T:
    # run_coroutine_threadsafe wants a real coroutine, which __anext__() is not.
    return await agen.__anext__()


# Annotations are strings (from __future__ import annotations): the blocking names replace the async ones.
_RENAMES = {"AsyncIterator": "Iterator", "AsyncGenerator": "Generator", "AsyncArtifactVersion": "ArtifactVersion"}


def _blocking_annotation(annotation: Any) -> Any:
    if not isinstance(annotation, str):
        return annotation
    renames = _RENAMES | {a.__name__: b.__name__ for a, (b, _) in _ADAPTERS.items()}
    return re.sub(r"\b\w+\b", lambda m: renames.get(m.group(0), m.group(0)), annotation)


def blocking_doc(doc: str | None) -> str | None:
    """An async method's docstring for its blocking twin: its examples without async and await."""
    if doc is None:
        return None
    return re.sub(r"\bawait ", "", re.sub(r"\basync (with|for) ", r"\1 ", doc))


def _blocking_signature(fn: Callable[..., Any]) -> inspect.Signature:
    sig = inspect.signature(fn)
    return sig.replace(return_annotation=_blocking_annotation(sig.return_annotation))


def async_name(member: Any) -> str | None:
    """The async method a generated member runs (None for hand-written ones); for the stub script."""
    return getattr(member, _MARK, None)
