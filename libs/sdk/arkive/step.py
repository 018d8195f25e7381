"""`@arkive.step`: ZenML-style cached pipeline steps on top of runs and the step cache.

    @arkive.step(cache=True, project="demo")
    def train(dataset: arkive.ArtifactVersion, lr: float) -> arkive.Artifact:
        ...build and return an Artifact...

    model = train(arkive.Ref("demo/my_dataset:latest"), lr=0.1)   # an ArtifactVersion

Arguments that are artifact refs (`arkive.Ref("…")`) or ArtifactVersion objects are inputs: the
step receives the resolved ArtifactVersion and the run records using it. Every other argument is a
parameter and must be JSON-serialisable. The cache key covers the step's identity, its source
code, the parameters and the manifest digests of the inputs; a hit returns the outputs of the
newest finished run with that key without calling the function (an output deleted since is a miss).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ._cachekey import cache_key, code_hash, step_identity
from .artifact import Artifact
from .version import ArtifactVersion

F = TypeVar("F", bound=Callable[..., Any])


class Ref(str):
    """Marks a string argument of a step as an artifact ref (an input), not a parameter."""


def step(
    fn: F | None = None,
    *,
    cache: bool = True,
    client: Any = None,
    project: str | None = None,
    job_type: str | None = None,
) -> Any:
    """Decorator; see the module docstring. `client` defaults to a new arkive.Client()."""

    def decorate(func: F) -> F:
        identity, code = step_identity(func), code_hash(func)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from .client import Client

            c = client or Client()
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                inputs: dict[str, ArtifactVersion] = {}
                params: dict[str, Any] = {}
                for name, value in bound.arguments.items():
                    if isinstance(value, Ref | ArtifactVersion):
                        inputs[name] = c.get_version(value)
                    else:
                        params[name] = value
                key = cache_key(identity, code, params, {n: v.manifest_digest for n, v in inputs.items()})
                if cache:
                    hit = c.cache.lookup(key, project)
                    if hit is not None:
                        return hit[0] if len(hit) == 1 else hit
                with c.run(project, job_type=job_type or func.__name__, config=params) as run:
                    for name, version in inputs.items():
                        bound.arguments[name] = run.use_artifact(version)
                    result = func(*bound.args, **bound.kwargs)
                    outputs = [result] if isinstance(result, Artifact) else list(result or ())
                    if not outputs or not all(isinstance(o, Artifact) for o in outputs):
                        raise TypeError(f"step {identity} must return an arkive.Artifact (or a list of them)")
                    versions = [run.log_artifact(o) for o in outputs]
                    if cache:
                        run.record_cache_key(key, versions)
                return versions[0] if len(versions) == 1 else versions
            finally:
                if client is None:
                    c.close()

        wrapper.cache_key_parts = (identity, code)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate
