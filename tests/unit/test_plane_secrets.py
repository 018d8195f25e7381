"""Secrets of the internal plane: read from a variable or a file, and never shown in URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from arkive_common.config import Settings
from arkive_common.plane_secrets import read_secret, redact, with_password


def test_a_secret_comes_from_the_variable_else_from_its_file(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    assert read_secret("X_PASSWORD", {"X_PASSWORD_FILE": str(path)}) == "from-file"
    assert read_secret("X_PASSWORD", {"X_PASSWORD": "direct", "X_PASSWORD_FILE": str(path)}) == "direct"
    assert read_secret("X_PASSWORD", {}) == ""
    with pytest.raises(ValueError, match=r"X_PASSWORD_FILE=.*cannot be read"):
        read_secret("X_PASSWORD", {"X_PASSWORD_FILE": str(tmp_path / "missing")})


def test_urls_carry_and_hide_passwords() -> None:
    url = with_password("postgresql://postgres@127.0.0.1:5432/postgres", "s3cr:t/@")
    assert url.startswith("postgresql://postgres:") and "s3cr:t/@" not in url
    assert redact(url) == "postgresql://postgres:***@127.0.0.1:5432/postgres"
    assert with_password("nats://[::1]:4222", "pw", "admin") == "nats://admin:pw@[::1]:4222"
    assert redact("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


def test_settings_read_the_plane_credentials_and_never_show_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nats").write_text("nats-pw\n")
    (tmp_path / "pg").write_text("pg-pw\n")
    monkeypatch.setenv("ARKIVE_NATS_USER", "hashing")
    monkeypatch.setenv("ARKIVE_NATS_PASSWORD_FILE", str(tmp_path / "nats"))
    monkeypatch.setenv("ARKIVE_DATABASE_PASSWORD_FILE", str(tmp_path / "pg"))
    monkeypatch.delenv("ARKIVE_NATS_PASSWORD", raising=False)
    monkeypatch.delenv("ARKIVE_DATABASE_PASSWORD", raising=False)
    s = Settings.from_env()
    assert (s.nats_user, s.nats_password, s.database_password) == ("hashing", "nats-pw", "pg-pw")
    assert "nats-pw" not in repr(s) and "pg-pw" not in repr(s)
