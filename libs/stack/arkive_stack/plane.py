"""Credentials of the internal plane a stack hands out: NATS users and the PostgreSQL password.

Embedded servers get generated secrets kept under `<data dir>/secrets/` (natsauth.py, pgauth.py).
A stack on external servers may be given the same files (StackConfig.nats_credentials,
database_password_file: the test suite's service stack uses its server stack's this way);
otherwise whatever ARKIVE_NATS_* / ARKIVE_DATABASE_PASSWORD* the environment holds reaches the
services unchanged. Processes get paths to the secrets (ARKIVE_*_FILE), never the secrets
themselves: environments and command lines end up in logs and `ps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arkive_common.plane_secrets import with_password

from . import natsauth, pgauth
from .config import StackConfig

NATS_VARS = ("ARKIVE_NATS_USER", "ARKIVE_NATS_PASSWORD", "ARKIVE_NATS_PASSWORD_FILE")
DATABASE_VARS = ("ARKIVE_DATABASE_PASSWORD", "ARKIVE_DATABASE_PASSWORD_FILE")
DATABASE_USERS = frozenset(natsauth.EVENT_PUBLISHERS)  # the gateway and the dashboard use no database


@dataclass
class Plane:
    nats_dir: Path | None = None
    """Directory of one password file per NATS user (natsauth.USERS); None: not managed here."""
    nats_authorization: str = ""
    """The embedded nats-server's `authorization` block ("" when NATS is external)."""
    database_password_file: Path | None = None
    database_password: str = ""
    database_marker: Path | None = None
    """Remembers which password the embedded PostgreSQL was given (pgauth.apply_password)."""
    _admin_password: str = ""

    @classmethod
    def plan(cls, cfg: StackConfig, embedded_nats: bool, embedded_postgres: bool) -> Plane:
        secrets = cfg.data_dir / "secrets"
        plane = cls()
        if embedded_nats:
            plane.nats_dir = secrets / "nats"
            passwords = natsauth.ensure_passwords(plane.nats_dir)
            plane.nats_authorization = natsauth.authorization(passwords, cfg.subject_prefix, cfg.stream_name)
        elif cfg.nats_credentials is not None:
            plane.nats_dir = cfg.nats_credentials
        if plane.nats_dir is not None:
            plane._admin_password = _read(plane.nats_dir / natsauth.ADMIN)
        if embedded_postgres:
            plane.database_password_file = secrets / "postgres-password"
            plane.database_password = pgauth.ensure_password(plane.database_password_file)
            plane.database_marker = secrets / "postgres-password.applied"
        elif cfg.database_password_file is not None:
            plane.database_password_file = cfg.database_password_file
            plane.database_password = _read(cfg.database_password_file)
        return plane

    def client_env(self) -> dict[str, str]:
        """What a client process on this host (an operator's tool, a test) needs: the admin NATS user."""
        env: dict[str, str] = {}
        if self.nats_dir is not None:
            env["ARKIVE_NATS_USER"] = natsauth.ADMIN
            env["ARKIVE_NATS_PASSWORD_FILE"] = str(self.nats_dir / natsauth.ADMIN)
        if self.database_password_file is not None:
            env["ARKIVE_DATABASE_PASSWORD_FILE"] = str(self.database_password_file)
        return env

    def service_env(self, env: dict[str, str], service: str) -> dict[str, str]:
        """`env` (the client environment) with `service`'s own NATS user, and the database password
        only for the services that use the database."""
        out = dict(env)
        if self.nats_dir is not None:
            for var in NATS_VARS:
                out.pop(var, None)
            if service in natsauth.USERS and service != natsauth.ADMIN:
                out["ARKIVE_NATS_USER"] = service
                out["ARKIVE_NATS_PASSWORD_FILE"] = str(self.nats_dir / service)
        if self.database_password_file is not None:
            for var in DATABASE_VARS:
                out.pop(var, None)
            if service in DATABASE_USERS:
                out["ARKIVE_DATABASE_PASSWORD_FILE"] = str(self.database_password_file)
        return out

    def admin_nats_url(self, url: str) -> str:
        return with_password(url, self._admin_password, natsauth.ADMIN) if self._admin_password else url

    def database_url(self, url: str) -> str:
        return with_password(url, self.database_password) if self.database_password else url


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
