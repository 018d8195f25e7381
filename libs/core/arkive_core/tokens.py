"""API tokens and roles, shared by the launcher (bootstrap token), ingest (the owner) and the gateway.

A token is `ark_<id>_<secret>`: the id (12 hex digits) names the stored record, the secret is 32
random bytes (64 hex digits) and is stored only as its sha256. A slow KDF (bcrypt, argon2) protects
low-entropy passwords against guessing; a 256-bit random secret cannot be guessed, so one sha256 is
enough and keeps a cache miss cheap. Secrets are compared with hmac.compare_digest (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import IntEnum

from .errors import InvalidArgument

PREFIX = "ark"
TOKEN_RE = re.compile(r"^ark_([0-9a-f]{12})_([0-9a-f]{64})$")
BOOTSTRAP_PRINCIPAL = "admin"


class Role(IntEnum):
    """Per-project roles; each includes the ones below it."""

    READER = 1
    WRITER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise InvalidArgument(f"unknown role {name!r}: reader, writer or admin") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Token:
    token_id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}_{self.token_id}_{self.secret}"

    @property
    def secret_sha256(self) -> str:
        return hash_secret(self.secret)


def new_token() -> Token:
    return Token(secrets.token_hex(6), secrets.token_hex(32))


def parse_token(text: str) -> Token | None:
    """The token's parts, or None when `text` does not have the token format."""
    m = TOKEN_RE.fullmatch(text.strip())
    return Token(m.group(1), m.group(2)) if m else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), stored_sha256.encode())


def bootstrap_value(token: Token) -> str:
    """ARKIVE_BOOTSTRAP_TOKEN_HASH: `<token id>:<sha256 of the secret>` (never the secret itself)."""
    return f"{token.token_id}:{token.secret_sha256}"


def parse_bootstrap_value(value: str) -> tuple[str, str]:
    token_id, _, digest = value.strip().partition(":")
    if not re.fullmatch(r"[0-9a-f]{12}", token_id) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("ARKIVE_BOOTSTRAP_TOKEN_HASH must be <12 hex token id>:<64 hex sha256>")
    return token_id, digest
