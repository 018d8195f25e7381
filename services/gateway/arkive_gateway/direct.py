"""Direct uploads: large blobs go from the client to object storage with a presigned PUT, past the
gateway (docs/architecture.md, "Direct uploads").

Why: on the 2-core reference machine a 256 MiB upload through the gateway cost it 1.0-1.5 CPU-s
(gRPC receive, sha256, the S3 send), on top of what the storage itself needs; the client's own
PUT of a file costs ~0.13 CPU-s. W&B's artifacts upload to presigned URLs the same way.

Trust: the URL is signed for one fresh key and carries `x-amz-checksum-sha256` (a signed header
under SigV4), so the storage refuses bytes that do not hash to the claimed digest. The gateway
does not take that on faith: it enables direct uploads only after it has seen its storage refuse a
wrong checksum and report a right one (probe at start), and FinishDirectUpload registers the blob
only if HeadObject reports exactly the claimed sha256 and size. Until then the object sits at a
unique key no read path knows (as any upload in flight); a refused or abandoned one is removed by
GC's staging sweep, never here (the key comes from the client).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiobotocore.config import AioConfig
from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.validation import check_digest, check_size
from botocore.exceptions import ClientError

from arkive_common import api
from arkive_common.blobstore import BlobStore, shared_session
from arkive_common.contracts import HASHING
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import blob_service_pb2 as pb

log = logging.getLogger(__name__)
MAX_SIZE = 5 * 1024**3  # one S3 PutObject; larger blobs stream through UploadBlob
MAX_URLS = 1_000
URL_SECONDS = 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
PROBE_PREFIX = "blobs/probe/"  # under blobs/: the staging sweep collects a probe left behind


def checksum_of(digest: str) -> str:
    """S3's form of a sha256 (base64 of the raw bytes) for "sha256:<hex>"."""
    return base64.b64encode(bytes.fromhex(digest.removeprefix("sha256:"))).decode()


def key_of(digest: str, upload_id: str) -> str:
    """The object key of one upload of digest: blobs/sha256/<2 hex>/<hex>/<upload id>."""
    hexd = digest.removeprefix("sha256:")
    return f"blobs/sha256/{hexd[:2]}/{hexd}/{upload_id}"


def _client(endpoint: str, store_settings: dict[str, str], **config: object):
    return shared_session().create_client(
        "s3",
        endpoint_url=endpoint,
        config=AioConfig(
            signature_version="s3v4",  # the checksum is a signed header, not a query parameter
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"},
            **config,
        ),
        **store_settings,
    )


class DirectTransfers:
    """StartDirectUpload / FinishDirectUpload / GetDownloadUrls. `async with` opens its two S3
    clients: one on the storage's internal endpoint (probe, HeadObject), one that signs URLs for the
    public one. Downloads need no probe: the client verifies every byte it reads."""

    def __init__(
        self,
        store: BlobStore,
        rpc: RpcClient,
        stat: Callable[[list[str], bool], Awaitable[dict[str, api.BlobInfo]]],
        *,
        endpoint: str,
        public_endpoint: str,
        access_key: str,
        secret_key: str,
        region: str,
        mode: str,
    ) -> None:
        creds = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key, "region_name": region}
        self._store, self._rpc, self._stat, self._mode = store, rpc, stat, mode
        # No retries: a probe refused (the point of it) must not be retried with back-off.
        self._internal_ctx = _client(endpoint, creds, retries={"max_attempts": 1})
        self._signer_ctx = _client(public_endpoint or endpoint, creds)
        self._internal: Any = None  # the opened S3 clients (aiobotocore is untyped), None outside `async with`
        self._signer: Any = None
        self.enabled = False

    async def __aenter__(self) -> DirectTransfers:
        self._internal = await self._internal_ctx.__aenter__()
        self._signer = await self._signer_ctx.__aenter__()
        if self._mode == "off":
            log.info("direct transfers are off (ARKIVE_DIRECT_TRANSFERS=off)")
        else:
            self.enabled = await self._storage_verifies_sha256()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ctx, opened in ((self._internal_ctx, self._internal), (self._signer_ctx, self._signer)):
            if opened is not None:
                await ctx.__aexit__(None, None, None)
        self._internal = self._signer = None

    async def _storage_verifies_sha256(self) -> bool:
        bucket, key, data = self._store.bucket, PROBE_PREFIX + uuid.uuid4().hex, b"arkive direct upload probe"
        wrong = checksum_of("sha256:" + hashlib.sha256(b"not the probe").hexdigest())
        right = checksum_of("sha256:" + hashlib.sha256(data).hexdigest())
        try:
            try:
                await self._internal.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=wrong)
                refused = False
            except ClientError:
                refused = True
            await self._internal.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=right)
            head = await self._internal.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            reported = head.get("ChecksumSHA256") == right
            await self._internal.delete_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            log.warning("direct uploads off: the storage failed the checksum probe (%s)", exc)
            return False
        if not (refused and reported):
            log.warning(
                "direct uploads off: the storage %s",
                "does not report sha256 checksums"
                if refused
                else "accepted bytes that do not match their x-amz-checksum-sha256",
            )
            return False
        log.info("direct uploads on: the storage verifies sha256 checksums")
        return True

    async def start(self, req: pb.StartDirectUploadRequest) -> pb.StartDirectUploadResponse:
        digest, size = check_digest(req.digest), check_size(req.size)
        if not self.enabled:
            raise FailedPrecondition("direct uploads are off on this server; use UploadBlob")
        if size > MAX_SIZE:
            raise FailedPrecondition(f"a direct upload takes at most {MAX_SIZE} bytes; use UploadBlob")
        present = (await self._stat([digest], True)).get(digest)
        if present is not None:
            if present.size != size:
                raise InvalidArgument(f"blob {digest} has {present.size} bytes, not {size}")
            return pb.StartDirectUploadResponse(already_present=True)
        upload_id = uuid.uuid4().hex
        checksum = checksum_of(digest)
        url = await self._signer.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._store.bucket, "Key": key_of(digest, upload_id), "ChecksumSHA256": checksum},
            ExpiresIn=URL_SECONDS,
        )
        return pb.StartDirectUploadResponse(
            upload_id=upload_id,
            url=url,
            headers={"x-amz-checksum-sha256": checksum},
            expires_in_seconds=URL_SECONDS,
        )

    async def finish(self, req: pb.FinishDirectUploadRequest) -> pb.FinishDirectUploadResponse:
        digest, size = check_digest(req.digest), check_size(req.size)
        if not _UPLOAD_ID.fullmatch(req.upload_id):
            raise InvalidArgument(f"invalid upload id {req.upload_id!r}")
        if not self.enabled:
            raise FailedPrecondition("direct uploads are off on this server; use UploadBlob")
        key = key_of(digest, req.upload_id)
        try:
            head = await self._internal.head_object(Bucket=self._store.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FailedPrecondition(f"nothing was uploaded for {digest} under this id; start again") from None
            raise
        stored, length = head.get("ChecksumSHA256"), head.get("ContentLength")
        if stored != checksum_of(digest) or length != size:
            raise InvalidArgument(
                f"the uploaded object is not {digest} of {size} bytes (storage reports sha256 {stored!r},"
                f" {length} bytes); nothing was registered"
            )
        reg = await self._rpc.call(HASHING.register, api.RegisterBlob(digest, size, key, size))
        if reg.already_present and reg.blob.key != key:  # a concurrent upload of the same bytes won
            await self._store.delete(key)
        return pb.FinishDirectUploadResponse(digest=digest, size=size, already_present=reg.already_present)

    async def download_urls(self, req: pb.GetDownloadUrlsRequest) -> pb.GetDownloadUrlsResponse:
        if self._mode == "off":
            raise FailedPrecondition("direct transfers are off on this server; use DownloadBlob")
        digests = list(dict.fromkeys(req.digests))
        if len(digests) > MAX_URLS:
            raise InvalidArgument(f"at most {MAX_URLS} digests per call")
        for d in digests:
            check_digest(d)
        infos = await self._stat(digests, False)
        urls = []
        for d in digests:
            info = infos.get(d)
            if info is None or info.key.startswith(api.RECIPE_KEY_PREFIX):
                continue  # unknown, or a composite of chunks: DownloadBlob assembles those
            url = await self._signer.generate_presigned_url(
                "get_object", Params={"Bucket": self._store.bucket, "Key": info.key}, ExpiresIn=URL_SECONDS
            )
            urls.append(pb.DownloadUrl(digest=d, url=url, offset=max(info.offset, 0), size=info.size))
        return pb.GetDownloadUrlsResponse(urls=urls, expires_in_seconds=URL_SECONDS)
