"""A bare gRPC client for gateway contract tests, independent of the SDK (as a client in another
language would use the API)."""

from __future__ import annotations

import hashlib
import uuid

import grpc
from arkive_core.credentials import api_key

from arkive._rpc import bearer_interceptors
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as ag
from arkive_proto.v1 import blob_service_pb2 as bpb
from arkive_proto.v1 import blob_service_pb2_grpc as bg
from arkive_proto.v1 import types_pb2


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def unique(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Raw:
    def __init__(self, addr: str) -> None:
        self.channel = grpc.aio.insecure_channel(addr, interceptors=bearer_interceptors(api_key()))
        self.blobs = bg.BlobServiceStub(self.channel)
        self.artifacts = ag.ArtifactServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def upload(self, data: bytes, claimed: str | None = None, size: int | None = None) -> bpb.UploadBlobResponse:
        digest = claimed or digest_of(data)

        async def messages():
            yield bpb.UploadBlobRequest(
                header=bpb.UploadBlobHeader(digest=digest, size=len(data) if size is None else size)
            )
            for i in range(0, len(data), 1 << 20):
                yield bpb.UploadBlobRequest(chunk=data[i : i + (1 << 20)])

        return await self.blobs.UploadBlob(messages())

    async def log(
        self, project: str, name: str, files: dict[str, bytes], *, type: str = "dataset", **commit
    ) -> apb.CommitDraftResponse:
        entries = []
        for path, data in files.items():
            await self.upload(data)
            entries.append(types_pb2.FileEntry(path=path, digest=digest_of(data), size=len(data)))
        draft = await self.artifacts.CreateDraft(apb.CreateDraftRequest(project=project, name=name, type=type))
        await self.artifacts.AddFiles(apb.AddFilesRequest(draft_id=draft.draft_id, files=entries))
        return await self.artifacts.CommitDraft(apb.CommitDraftRequest(draft_id=draft.draft_id, **commit))
