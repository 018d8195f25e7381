"""The bootstrap admin token of a local stack.

Made on the first start and kept in `<data dir>/admin-token` (mode 0600), so a restart on the same
data prints the same token. The services get only `ARKIVE_BOOTSTRAP_TOKEN_HASH` (token id and the
sha256 of its secret): ingest registers it as the global admin `admin` if no principal exists yet,
once, however many replicas start together. `arkive up` also writes it to the user's credentials
file, so the CLI and SDK work without further steps.
"""

from __future__ import annotations

from pathlib import Path

from arkive_core.credentials import read_credentials, write_credentials
from arkive_core.tokens import bootstrap_value, new_token, parse_token


def load_or_create(data_dir: Path) -> tuple[str, bool]:
    """(the token, whether it was created now)."""
    path = data_dir / "admin-token"
    existing = read_credentials(path)
    if existing and parse_token(existing) is not None:
        return existing, False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = str(new_token())
    write_credentials(path, token)
    return token, True


def bootstrap_hash(token: str) -> str:
    parsed = parse_token(token)
    if parsed is None:
        raise ValueError("the admin token is not of the form ark_<id>_<secret>")
    return bootstrap_value(parsed)
