"""Credentials of the internal plane (NATS, PostgreSQL): read from the environment or a secret file.

A secret NAME is taken from the variable NAME, else from the file that NAME_FILE names (a mounted
Kubernetes Secret, or the files `arkive up` keeps in its data dir with mode 0600). Secrets never go
on a command line or into a log: URLs are shown through `redact`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

REDACTED = "***"


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str:
    """NAME's value, else the content of the file NAME_FILE names (without its trailing line
    break), else "". An unreadable file is an error: a service must not start without its secret."""
    env = os.environ if environ is None else environ
    value = env.get(name, "")
    if value:
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return ""
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"{name}_FILE={path} cannot be read: {exc.strerror or exc}") from None


def with_password(url: str, password: str, user: str | None = None) -> str:
    """`url` with `user` (default: the one in it) and `password` in its user info."""
    parts = urlsplit(url)
    name = user if user is not None else (parts.username or "")
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{quote(name, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def redact(url: str) -> str:
    """`url` with any password in its user info replaced by ***, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{netloc}"))
