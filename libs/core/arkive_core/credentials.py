"""The user's API token: ARKIVE_API_KEY, else the credentials file
(`$ARKIVE_CONFIG_DIR/credentials`, default `$XDG_CONFIG_HOME/arkive/credentials` or
`~/.config/arkive/credentials`), written with mode 0600 by `arkive up` and `arkive login`.

The file holds `api_key = ark_...` (other lines are ignored, so it can grow later).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("ARKIVE_CONFIG_DIR"):
        return Path(env["ARKIVE_CONFIG_DIR"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "arkive"


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / "credentials"


def read_credentials(path: Path) -> str:
    """The api_key in the file at `path`, "" when there is none."""
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return ""
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "api_key":
            return value.strip()
    return ""


def api_key(environ: Mapping[str, str] | None = None) -> str:
    """ARKIVE_API_KEY, else the credentials file's key, else ""."""
    env = os.environ if environ is None else environ
    return env.get("ARKIVE_API_KEY", "").strip() or read_credentials(credentials_path(env))


def write_credentials(path: Path, key: str) -> None:
    """Writes the file with mode 0600 from the start (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"api_key = {key}\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
