"""`@arkive.step`: ZenML-style cached pipeline steps on top of runs, materializers and the step cache.

    @arkive.step(project="demo")
    def clean(raw: pd.DataFrame, min_age: int) -> pd.DataFrame:     # plain values in and out
        return raw[raw.age >= min_age]

    @arkive.step(project="demo")
    def train(data: pd.DataFrame, lr: float) -> LogisticRegression: ...

    cleaned = clean(arkive.Ref("demo/patients:latest"), min_age=18)   # an ArtifactVersion
    model = train(cleaned, lr=0.1)                                      # lineage: patients -> clean -> train
    model.load()                                                        # the LogisticRegression again

Inputs: an argument that is an artifact ref (`arkive.Ref("…")`) or an ArtifactVersion is used by
the step's run (an input edge). The function receives the version itself where its parameter is
annotated `ArtifactVersion` (or not annotated), and otherwise the loaded object (`version.load()`).
A DataFrame, numpy array or `arkive.ExternalArtifact(value)` passed in is logged first (ZenML's
ExternalArtifact) and then used like a ref. Every other argument is a parameter and must be
JSON-serialisable.

Outputs: an `arkive.Artifact` (or a list of them) is logged as it is; any other return value (a
tuple counts as several outputs) is logged with its materializer, named `<step>_output` (or
`<step>_output_<i>`). The step returns the logged ArtifactVersion(s).

The cache key covers the step's identity, its source code, the parameters and the manifest
digests of the inputs; a hit returns the outputs of the newest finished run with that key without
calling the function (an output deleted since is a miss).
"""

from __future__ import annotations

import functools
import inspect
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ._cachekey import cache_key, code_hash, step_identity
from ._objects import build_object
from .artifact import Artifact
from .version import ArtifactVersion

F = TypeVar("F", bound=Callable[..., Any])


class Ref(str):
    """Marks a string argument of a step as an artifact ref (an input), not a parameter."""


class ExternalArtifact:
    """A plain value passed to a step as an input artifact: logged (once per content: an unchanged
    value makes no new version) under `name`, default `<step>_<parameter>`, and used by the run."""

    def __init__(self, value: Any, name: str | None = None) -> None:
        self.value = value
        self.name = name


def _is_external(value: Any) -> bool:
    if isinstance(value, ExternalArtifact):
        return True
    if isinstance(value, Ref | ArtifactVersion | str | int | float | bool | type(None)):
        return False
    try:  # JSON-serialisable values are parameters; tables, arrays and objects are artifacts
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return True
    return False


def _wants_version(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    if annotation is inspect.Parameter.empty:
        return True
    if isinstance(annotation, str):  # postponed annotations: judge by the name
        return annotation.rsplit(".", 1)[-1] in ("ArtifactVersion", "AsyncArtifactVersion", "Any")
    return annotation is Any or (inspect.isclass(annotation) and issubclass(annotation, ArtifactVersion))


def _outputs(result: Any) -> list[Any]:
    # Never `result or ()`: a DataFrame has no truth value.
    if isinstance(result, Artifact):
        return [result]
    if isinstance(result, list) and result and all(isinstance(o, Artifact) for o in result):
        return result
    if isinstance(result, tuple):
        return list(result)
    return [result]


def _log_outputs(run: Any, outputs: list[Any], base: str) -> list[ArtifactVersion]:
    versions = []
    for i, out in enumerate(outputs):
        if isinstance(out, Artifact):
            versions.append(run.log_artifact(out))
            continue
        if out is None:
            raise TypeError(f"step {base} returned None: return a value or an arkive.Artifact")
        name = f"{base}_output" if len(outputs) == 1 else f"{base}_output_{i}"
        with tempfile.TemporaryDirectory(prefix="arkive-step-") as tmp:
            versions.append(run.log_artifact(build_object(out, name, Path(tmp))))
    return versions


def _log_external(c: Any, value: Any, name: str, project: str | None) -> ArtifactVersion:
    if isinstance(value, ExternalArtifact):
        value, name = value.value, value.name or name
    return c.log_object(value, name, project)


def step(
    fn: F | None = None,
    *,
    cache: bool = True,
    client: Any = None,
    project: str | None = None,
    job_type: str | None = None,
) -> Any:
    """Decorator; see the module docstring. `client` defaults to a new arkive.Client()."""

    def decorate(func: F) -> Callable[..., Any]:  # not F: the wrapper returns the logged versions
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
                    elif _is_external(value):
                        inputs[name] = _log_external(c, value, f"{func.__name__}_{name}", project)
                    else:
                        params[name] = value
                key = cache_key(identity, code, params, {n: v.manifest_digest for n, v in inputs.items()})
                if cache:
                    hit = c.cache.lookup(key, project)
                    if hit is not None:
                        return hit[0] if len(hit) == 1 else hit
                with c.run(project, job_type=job_type or func.__name__, config=params) as run:
                    for name, version in inputs.items():
                        used = run.use_artifact(version)
                        wants_version = _wants_version(signature.parameters[name])
                        bound.arguments[name] = used if wants_version else c.load(used)
                    versions = _log_outputs(run, _outputs(func(*bound.args, **bound.kwargs)), func.__name__)
                    if cache:
                        run.record_cache_key(key, versions)
                return versions[0] if len(versions) == 1 else versions
            finally:
                if client is None:
                    c.close()

        wrapper.cache_key_parts = (identity, code)  # type: ignore[attr-defined]  # a function attribute
        return wrapper

    return decorate(fn) if fn is not None else decorate
