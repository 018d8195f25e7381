"""Where reference entries come from: the gateway resolves s3:// and http(s):// sources itself (a
client's ETag or size is never trusted) and fetches them again for downloads, refusing content
that no longer matches what was recorded ("source changed") instead of serving it.

s3:// uses the operator's S3 endpoint and credentials (the blob store's unless
ARKIVE_REFERENCE_S3_* override them): a client picks bucket and key, never the endpoint.
"""

from __future__ import annotations

import asyncio
import fnmatch
import posixpath
import re
from collections.abc import AsyncIterator
from urllib.parse import unquote, urlsplit

from arkive_core.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from arkive_core.validation import normalize_path
from botocore.exceptions import ClientError

from arkive_common import api_refs as ar
from arkive_common.blobstore import BlobStore

from .ssrf import SafeHttp

DEFAULT_MAX_OBJECTS = 10_000
HEAD_CONCURRENCY = 16
CHUNK = 1024 * 1024


def split_s3(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise InvalidArgument(f"invalid S3 URI {uri!r}: expected s3://bucket/key or s3://bucket/prefix/")
    return parts.netloc, parts.path.lstrip("/")


def entry_path(name: str, default: str) -> str:
    try:
        return normalize_path(name or default)
    except InvalidArgument as exc:
        raise InvalidArgument(f"reference name: {exc.message}") from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3Source:
    def __init__(self, store: BlobStore, internal_bucket: str = "", allowed: str = "") -> None:
        self.store = store
        # arkive's own bucket when references use the blob store's endpoint: its blobs/ prefix is
        # arkive's internals (listing it would reveal every stored digest), so it is refused.
        self.internal_bucket = internal_bucket
        # The operator's allow list (ARKIVE_REFERENCE_S3_BUCKETS): the gateway's keys may reach far
        # more buckets than its users should read through it.
        self.allowed = tuple(p.strip() for p in allowed.split(",") if p.strip())

    def _check_internal(self, bucket: str, key: str) -> None:
        if bucket == self.internal_bucket and (key.startswith("blobs/") or "blobs/".startswith(key)):
            raise PermissionDenied(f"s3://{bucket}/{key} is inside arkive's internal blobs/ prefix")
        if bucket == self.internal_bucket:
            raise PermissionDenied(f"s3://{bucket}/ is arkive's own bucket: it is never a reference source")
        if not any(fnmatch.fnmatchcase(bucket, pattern) for pattern in self.allowed):
            raise PermissionDenied(
                f"s3://{bucket}/ is not on the allow list of reference buckets (the operator's "
                "ARKIVE_REFERENCE_S3_BUCKETS)"
            )

    async def _head(self, bucket: str, key: str) -> tuple[str, str, int]:
        try:
            head = await self.store.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _status(exc) in (403, 404) or _code(exc) in ("404", "NoSuchKey", "NoSuchBucket"):
                raise NotFound(f"s3://{bucket}/{key} not found") from None
            raise InvalidArgument(f"cannot read s3://{bucket}/{key}: {exc}") from None
        version = head.get("VersionId") or ""
        return head.get("ETag", ""), "" if version == "null" else version, int(head["ContentLength"])

    async def _list(self, bucket: str, prefix: str, limit: int) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        try:
            paginator = self.store.s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith("/"):
                        continue  # folder markers hold no data
                    if len(out) >= limit:
                        raise InvalidArgument(
                            f"s3://{bucket}/{prefix} holds more than {limit} objects; raise max_objects"
                        )
                    out.append((obj["Key"], int(obj["Size"])))
        except ClientError as exc:
            raise NotFound(f"cannot list s3://{bucket}/{prefix}: {exc}") from None
        if not out:
            raise NotFound(f"no objects under s3://{bucket}/{prefix}")
        return out

    async def resolve(self, spec) -> list[ar.RefEntry]:
        bucket, key = split_s3(spec.uri)
        self._check_internal(bucket, key)
        limit = spec.max_objects or DEFAULT_MAX_OBJECTS
        if limit < 0:
            raise InvalidArgument("max_objects must not be negative")
        if key and not key.endswith("/"):
            path = entry_path(spec.name, posixpath.basename(key))
            if not spec.checksum:
                return [ar.RefEntry(path, spec.uri, checksum=False)]
            etag, version, size = await self._head(bucket, key)
            return [ar.RefEntry(path, spec.uri, etag, version, True, "", size)]
        objects = await self._list(bucket, key, limit)
        prefix = spec.name.rstrip("/") + "/" if spec.name else ""
        if not spec.checksum:
            return [
                ar.RefEntry(entry_path("", prefix + k[len(key) :]), f"s3://{bucket}/{k}", checksum=False)
                for k, _ in objects
            ]
        sem = asyncio.Semaphore(HEAD_CONCURRENCY)

        async def one(k: str) -> ar.RefEntry:
            # HeadObject, not the listing, gives the version id (and the ETag of that version).
            async with sem:
                etag, version, size = await self._head(bucket, k)
            return ar.RefEntry(
                entry_path("", prefix + k[len(key) :]), f"s3://{bucket}/{k}", etag, version, True, "", size
            )

        return list(await asyncio.gather(*(one(k) for k, _ in objects)))

    async def read(self, ref: ar.RefEntry, offset: int) -> AsyncIterator[bytes]:
        bucket, key = split_s3(ref.uri)
        self._check_internal(bucket, key)
        args: dict = {"Bucket": bucket, "Key": key}
        if ref.checksum:
            if ref.version_id:
                args["VersionId"] = ref.version_id
            if ref.etag:
                args["IfMatch"] = ref.etag
        if offset:
            args["Range"] = f"bytes={offset}-"
        try:
            resp = await self.store.s3.get_object(**args)
        except ClientError as exc:
            if offset and _status(exc) == 416:
                raise InvalidArgument(f"offset {offset} is at or past the end of {ref.uri}") from None
            if ref.checksum and (_status(exc) in (404, 412) or _code(exc) in ("PreconditionFailed", "NoSuchKey")):
                raise FailedPrecondition(f"source changed: {ref.uri} no longer matches ETag {ref.etag}") from None
            raise NotFound(f"cannot read {ref.uri}: {exc}") from None
        body = resp["Body"]
        try:
            # Some S3 servers ignore If-Match: compare what they answered too.
            if ref.checksum and ref.etag and resp.get("ETag") and resp["ETag"] != ref.etag:
                raise FailedPrecondition(f"source changed: {ref.uri} has ETag {resp['ETag']}, not {ref.etag}")
            if ref.checksum and int(resp["ContentLength"]) != ref.size - offset:
                raise FailedPrecondition(f"source changed: {ref.uri} is no longer {ref.size} bytes")
            while chunk := await body.read(CHUNK):
                yield chunk
        finally:
            body.close()


class HttpSource:
    def __init__(self, http: SafeHttp) -> None:
        self.http = http

    async def resolve(self, spec) -> list[ar.RefEntry]:
        url = await self.http.check_host(spec.uri)
        path = entry_path(spec.name, posixpath.basename(unquote(url.path)) or "index")
        if not spec.checksum:
            return [ar.RefEntry(path, spec.uri, checksum=False)]
        async with self.http.request("HEAD", spec.uri) as resp:
            if resp.status in (405, 501):  # no HEAD: a GET whose body is never read
                async with self.http.request("GET", spec.uri) as get:
                    return [self._entry(path, spec.uri, get)]
            return [self._entry(path, spec.uri, resp)]

    @staticmethod
    def _entry(path: str, uri: str, resp) -> ar.RefEntry:
        if resp.status == 404:
            raise NotFound(f"{uri}: 404 Not Found")
        if resp.status != 200:
            raise InvalidArgument(f"{uri}: HTTP {resp.status}")
        length = resp.headers.get("Content-Length", "")
        etag = resp.headers.get("ETag", "")
        if not etag and not length.isdigit():
            raise InvalidArgument(f"{uri} sends neither ETag nor Content-Length; use checksum=False")
        return ar.RefEntry(path, uri, etag, "", True, "", int(length) if length.isdigit() else 0)

    async def read(self, ref: ar.RefEntry, offset: int) -> AsyncIterator[bytes]:
        strong = ref.checksum and ref.etag and not ref.etag.startswith("W/")
        # If-Match (strong ETags only, RFC 9110) lets the server refuse; we also check its answer.
        headers = {"If-Match": ref.etag} if strong else {}
        # A Range only under a strong ETag: weak or absent validators do not pin which bytes sit at
        # an offset (RFC 9110 forbids weak ones for ranges), so then the whole body is read again
        # and its first `offset` bytes dropped. A server may also ignore the Range (200): likewise.
        ranged = bool(offset and strong)
        if ranged:
            headers["Range"] = f"bytes={offset}-"
        async with self.http.request("GET", ref.uri, headers) as resp:
            if resp.status == 412:
                raise FailedPrecondition(f"source changed: {ref.uri} no longer matches ETag {ref.etag}")
            if resp.status == 416:
                raise FailedPrecondition(f"source changed: {ref.uri} has fewer than {offset} bytes")
            if resp.status != 200 and not (ranged and resp.status == 206):
                raise FailedPrecondition(f"source changed: {ref.uri} answers HTTP {resp.status}")
            start = _range_start(ref, resp.headers.get("Content-Range", ""), offset) if resp.status == 206 else 0
            if ref.checksum:
                etag, length = resp.headers.get("ETag", ""), resp.headers.get("Content-Length", "")
                if ref.etag and etag != ref.etag:
                    raise FailedPrecondition(f"source changed: {ref.uri} has ETag {etag or 'none'}, not {ref.etag}")
                if length.isdigit() and (ref.size or not ref.etag) and start + int(length) != ref.size:
                    raise FailedPrecondition(
                        f"source changed: {ref.uri} has {start + int(length)} bytes, not {ref.size}"
                    )
            skip, received = offset - start, start
            async for chunk in resp.content.iter_chunked(CHUNK):
                received += len(chunk)
                if ref.checksum and ref.size and received > ref.size:
                    raise FailedPrecondition(f"source changed: {ref.uri} sent more than {ref.size} bytes")
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                yield chunk[skip:]
                skip = 0


def _range_start(ref: ar.RefEntry, content_range: str, offset: int) -> int:
    """The first byte of a 206 answer to "Range: bytes=<offset>-", checked against the request and
    the recorded size (Content-Range "bytes <first>-<last>/<total or *>")."""
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", content_range.strip())
    if m is None or int(m[1]) != offset:
        raise FailedPrecondition(f"{ref.uri} answered bytes={offset}- with Content-Range {content_range!r}")
    if ref.checksum and ref.size and m[3] != "*" and int(m[3]) != ref.size:
        raise FailedPrecondition(f"source changed: {ref.uri} has {m[3]} bytes, not {ref.size}")
    return offset
