"""The engine's operations as the client calls them: each takes a Transport.

Downloads go through the local blob cache and report corrupt blobs to the server; uploads send
only the blobs the server lacks (see transfer.py, early.py).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .cache import BlobCache
from .corrupt import reporting_corruption
from .download import download_files
from .early import EarlyPacks
from .files import HashedFile
from .progress import NullProgress
from .ref_download import download_references
from .references import ReferenceFile
from .transfer import find_missing, upload_missing
from .transport import Transport
from .types import DownloadResult, FileInfo


async def download(
    transport: Transport,
    dest: Path,
    files: list[FileInfo],
    progress: NullProgress,
    refs: list[ReferenceFile] | None = None,
    version_id: str = "",
) -> DownloadResult:
    """Writes files (verified) under dest; then the reference entries `refs` of version_id, fetched
    from their sources (see ref_download.py)."""
    work = download_files(transport.blobs(), dest, files, transport.address, progress, BlobCache.from_env())
    result = await reporting_corruption(transport.channel(), work)
    if refs:
        totals = await download_references(
            transport.channel(), version_id, dest, refs, transport.address, progress, transport.retry_deadline
        )
        result = totals.add_to(result)
    return result


async def download_zip(
    transport: Transport, out: Path, files: list[FileInfo], progress: NullProgress, created_at: datetime
) -> DownloadResult:
    """Writes files into the zip file `out`, each verified as it is streamed in (see zip.py)."""
    from .zip import write_zip  # only zips need it

    return await write_zip(transport.blobs(), out, files, transport.address, progress, BlobCache.from_env(), created_at)


def early_packs(transport: Transport) -> EarlyPacks:
    """Packs of small files sent while hashing goes on (`async with early_packs(t) as early`)."""
    return EarlyPacks(transport.blobs(), transport.address, transport.timeout)


async def missing_blobs(transport: Transport, digests: list[str]) -> set[str]:
    """The digests the server does not hold."""
    return await find_missing(transport.blobs(), digests, transport.address, transport.timeout)


async def upload(transport: Transport, files: list[HashedFile], progress: NullProgress) -> tuple[int, int]:
    """Uploads the blobs of files the server lacks; (files, bytes) sent."""
    return await upload_missing(transport.blobs(), files, transport.address, transport.idempotent_timeout, progress)
