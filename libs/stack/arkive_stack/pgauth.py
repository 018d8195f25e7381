"""Password (SCRAM-SHA-256) authentication of the embedded PostgreSQL.

initdb's default (and what the launcher used before) is `trust`: any local process could connect
as the superuser. The launcher now keeps a generated password in `secrets/postgres-password`
(mode 0600), sets it on the role in single-user mode (no listener, no pg_hba involved) whenever
it is not the one applied last (a fresh cluster, a data dir from before passwords, or a deleted
password file: that is how it is rotated), and rewrites pg_hba.conf on every start so only SCRAM
logins are accepted. The role gets a SCRAM verifier, never the password as text, so not even a
statement log could show it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import subprocess
from pathlib import Path

from .errors import StackError
from .natsauth import write_private

HBA = (
    "# written by arkive up on every start; edits are overwritten\n"
    "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
    "local   all       all                 scram-sha-256\n"
    "host    all       all   127.0.0.1/32  scram-sha-256\n"
    "host    all       all   ::1/128       scram-sha-256\n"
)
ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def ensure_password(path: Path) -> str:
    """The stored password, or a new one written with mode 0600."""
    try:
        value = path.read_text().strip()
    except OSError:
        value = ""
    if not value:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        value = secrets.token_hex(24)  # hex: safe in a DSN without quoting
        write_private(path, value + "\n")
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return value


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677)."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _fingerprint(password: str) -> str:
    return hashlib.sha256(b"arkive-pg-password:" + password.encode()).hexdigest()


def write_hba(data: Path, uid: int | None, gid: int | None) -> None:
    path = data / "pg_hba.conf"
    write_private(path, HBA)
    if uid is not None and gid is not None:
        os.chown(path, uid, gid)


def apply_password(
    postgres_bin: Path, data: Path, user: str, password: str, marker: Path, uid: int | None, gid: int | None
) -> bool:
    """Set `password` on `user` unless `marker` says it was the last one applied; True if it was set.
    Runs the server in single-user mode, so the cluster must not be running."""
    if marker.exists() and marker.read_text().strip() == _fingerprint(password):
        return False
    statement = f"ALTER ROLE \"{user}\" PASSWORD '{scram_verifier(password)}'\n"
    argv = [str(postgres_bin), "--single", "-D", str(data), "-c", "listen_addresses=", "-c", "unix_socket_directories="]
    done = subprocess.run(
        [*argv, "postgres"],
        input=statement.encode(),
        capture_output=True,
        user=uid,
        group=gid,
        extra_groups=[] if gid is not None else None,
        check=False,
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    if done.returncode != 0 or "ERROR:" in output:
        tail = "\n".join(output.splitlines()[-10:])
        raise StackError(f"setting the PostgreSQL password failed (exit {done.returncode}):\n{tail}")
    write_private(marker, _fingerprint(password) + "\n")
    return True
