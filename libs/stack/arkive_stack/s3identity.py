"""The embedded SeaweedFS' S3 identity: one generated key pair, kept in the data dir.

Without an identity config SeaweedFS accepts every request, signed or not, with any key. The
launcher therefore writes `seaweedfs/s3-identity.json` in SeaweedFS' `-s3.config` format with one
identity allowed everything, and hands its keys to the services (ARKIVE_S3_ACCESS_KEY / _SECRET_KEY).
The file is created with mode 0600 and is the only place the secret is stored; SeaweedFS gets its
path, never the secret, on its command line (which the process logs record).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

FILE_NAME = "s3-identity.json"
IDENTITY_NAME = "arkive"
ACTIONS = ("Admin", "Read", "Write", "List", "Tagging")


def _read(path: Path) -> tuple[str, str] | None:
    try:
        doc = json.loads(path.read_text())
        cred = doc["identities"][0]["credentials"][0]
        access, secret = cred["accessKey"], cred["secretKey"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    if isinstance(access, str) and isinstance(secret, str) and access and secret:
        return access, secret
    return None


def _write(path: Path, access: str, secret: str) -> None:
    doc = {
        "identities": [
            {
                "name": IDENTITY_NAME,
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": list(ACTIONS),
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # 0600 from the first byte: the secret is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to an existing leftover .tmp
    os.replace(tmp, path)


def ensure(data: Path, access: str | None = None, secret: str | None = None) -> tuple[Path, str, str]:
    """(path, access key, secret key) of the identity file under `data`. A given pair is written
    there; otherwise the stored pair is reused, or a random one is generated on the first start."""
    path = data / FILE_NAME
    if access and secret:
        if _read(path) != (access, secret):
            _write(path, access, secret)
        return path, access, secret
    stored = _read(path)
    if stored is None:
        stored = "arkive-" + secrets.token_hex(8), secrets.token_urlsafe(30)
        _write(path, *stored)
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path, *stored
