"""Reading one file of a version as a stream of byte chunks (the web dashboard's downloads), verified.

    async for chunk in client.stream_file("demo/mnist:v3", "data/train.csv"): ...

The bytes come through the gateway (DownloadBlob); their size and sha256 are checked as they pass
and a mismatch raises ArkiveError after the last chunk, so a caller that forwards them (an HTTP
response) aborts instead of ending a corrupt body cleanly.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from arkive_core.errors import ArkiveError, FailedPrecondition, NotFound

from arkive_proto.v1 import blob_service_pb2 as bpb

from ._feature import Feature
from .engine.references import ReferenceFile
from .version import FileInfo


class Streams(Feature):
    """AsyncClient.find_file and stream_file."""

    async def find_file(self, ref: Any, path: str) -> FileInfo:
        """The FileInfo of the file at exactly `path` in the version (NotFound if none)."""
        async for f in self.files(ref, path_prefix=path):
            if f.path == path:
                return f
        raise NotFound(f"no file {path!r} in {ref}")

    async def stream_file(self, ref: Any, path: str) -> AsyncIterator[bytes]:
        """The bytes of one file, chunk by chunk; raises ArkiveError at the end if they do not match
        the recorded size and sha256. Reference entries (s3://, http://) are refused."""
        info = await self.find_file(ref, path)
        if isinstance(info, ReferenceFile) and not info.reference.uri.startswith("arkive://"):
            raise FailedPrecondition(f"{path!r} is a reference to an external source; download it with the CLI")
        digest = hashlib.sha256()
        size = 0
        stream = self._blobs.DownloadBlob(bpb.DownloadBlobRequest(digest=info.digest))
        try:
            async for message in stream:
                chunk = bytes(message.chunk)
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        except Exception as exc:  # a gRPC failure mid-stream: an arkive error the caller can report
            if isinstance(exc, ArkiveError):
                raise
            raise ArkiveError(f"download of {path!r} failed: {exc}") from None
        if size != info.size or "sha256:" + digest.hexdigest() != info.digest:
            raise ArkiveError(f"{path!r}: received bytes do not match the recorded size and sha256")
