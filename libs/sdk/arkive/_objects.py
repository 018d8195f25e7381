"""Python objects in and out of versions through materializers (see materializers.py):
`log_object` writes an object's files into a temporary folder and logs them; `load` downloads a
version and reads it back."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifact import Artifact
from .materializers import MATERIALIZER_KEY, for_object, loader_for
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .aclient import AsyncClient


def build_object(
    obj: Any, name: str, tmp: Path, *, metadata: Mapping[str, Any] | None = None, description: str = ""
) -> Artifact:
    """The Artifact for `obj`, its files written under tmp by the materializer that handles it."""
    m = for_object(obj)
    folder = tmp / "object"
    folder.mkdir()
    written = dict(m.save(obj, folder) or {})
    written[MATERIALIZER_KEY] = m.name
    art = Artifact(name, type=m.artifact_type, metadata={**dict(metadata or {}), **written}, description=description)
    art.add_dir(folder)
    art.metadata_json()  # validate before anything is sent
    return art


async def load(client: AsyncClient, ref: Any, root: str | Path | None) -> Any:
    """The object a version holds; a folder (downloaded to root, default ./artifacts/<name>:v<N>)
    for versions that no materializer reads."""
    version: ArtifactVersion = ref if isinstance(ref, ArtifactVersion) else await client.get_version(ref)
    paths = [f.path async for f in client.files(version)]
    read = loader_for(version.type, version.metadata, paths)
    if read is None:
        return (await client.download(version, root)).path
    if root is not None:
        await client.download(version, root)
        return await asyncio.to_thread(read, Path(root))
    with tempfile.TemporaryDirectory(prefix="arkive-load-") as tmp:
        await client.download(version, tmp)
        return await asyncio.to_thread(read, Path(tmp))
