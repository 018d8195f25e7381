"""Plain HTTP to object storage for direct transfers (_direct.py, _direct_download.py): one
connection per presigned URL, used from a worker thread."""

from __future__ import annotations

import http.client
import urllib.parse
from dataclasses import dataclass

HTTP_TIMEOUT = 300.0  # per socket operation


@dataclass(slots=True)
class DirectState:
    """Per log or download: once direct transfers turned out unavailable, the other files do not try."""

    off: bool = False


def connect(url: str, blocksize: int = 8192) -> tuple[http.client.HTTPConnection, str]:
    """(an unopened connection to the URL's host, the request target: path and query)."""
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=HTTP_TIMEOUT, blocksize=blocksize)
    return conn, parts.path + (f"?{parts.query}" if parts.query else "")
