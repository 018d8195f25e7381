"""`arkive up`: run the whole stack in the foreground until Ctrl-C (or SIGTERM).

The SDK's CLI calls `main(argv)` with the arguments that follow `up`; `python -m arkive_stack` does
the same. Progress goes to stderr; once ready, stdout gets `export ARKIVE_...=...` lines a shell can
eval. A process that exits on its own is restarted (with a status line saying which and why); exit
status: 0 after Ctrl-C/SIGTERM, 1 if start-up failed or a process kept crashing (a crash loop).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from arkive_core.credentials import credentials_path, read_credentials, write_credentials

from . import admin_token
from .config import SERVICES, StackConfig
from .errors import ProcessDiedError, StackError
from .stack import Stack


def build_parser() -> argparse.ArgumentParser:
    d = StackConfig()
    p = argparse.ArgumentParser(
        prog="arkive up",
        description="Start NATS, PostgreSQL, SeaweedFS and the arkive services locally; Ctrl-C stops all. "
        "ARKIVE_NATS_URL / ARKIVE_DATABASE_URL / ARKIVE_S3_ENDPOINT, when set, name external servers "
        "that are used instead of starting embedded ones.",
    )
    p.add_argument(
        "--data-dir", type=Path, help="state directory (ARKIVE_DATA_DIR; default .arkive in the current directory)"
    )
    p.add_argument("--replicas", type=int, help="processes per service (ARKIVE_REPLICAS; default 1)")
    p.add_argument(
        "--gateway-addr",
        help=f"host:port of the gateway; every replica binds it via SO_REUSEPORT (default {d.gateway_addr})",
    )
    p.add_argument("--nats-port", type=int, help=f"0 = any free port (default {d.nats_port})")
    p.add_argument("--postgres-port", type=int, help=f"0 = any free port (default {d.postgres_port})")
    p.add_argument("--s3-port", type=int, help=f"0 = any free port (default {d.s3_port})")
    p.add_argument("--strict-ports", action="store_true", help="fail if a port is busy instead of using a free one")
    p.add_argument(
        "--services",
        help=f"comma-separated subset of {','.join(SERVICES)}; 'none' starts only the servers",
    )
    p.add_argument("--ready-timeout", type=float, help=f"seconds per start-up step (default {d.ready_timeout:.0f})")
    return p


def config_from_args(args: argparse.Namespace) -> StackConfig:
    """Defaults < ARKIVE_* environment < command-line flags."""
    overrides: dict[str, Any] = {}  # StackConfig.from_env converts and checks them
    for flag in ("data_dir", "replicas", "gateway_addr", "nats_port", "postgres_port", "s3_port", "ready_timeout"):
        value = getattr(args, flag)
        if value is not None:
            overrides[flag] = value
    if args.strict_ports:
        overrides["strict_ports"] = True
    if args.services is not None:
        names = [s.strip() for s in args.services.split(",") if s.strip()]
        overrides["services"] = () if names == ["none"] else tuple(names)
    return StackConfig.from_env(**overrides)


def _say(message: str) -> None:
    print(f"arkive up: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ValueError as e:
        _say(f"error: {e}")
        return 2
    try:
        return asyncio.run(_up(cfg))
    except KeyboardInterrupt:  # a Ctrl-C outside our handlers (before the loop ran); nothing started
        return 0


def _admin_token(cfg: StackConfig) -> StackConfig:
    """The stack's admin token, also in the user's credentials file when that has none or when the
    token is new (a first start); the export lines print it."""
    token, created = admin_token.load_or_create(cfg.data_dir)
    path = credentials_path()
    if created or not read_credentials(path):
        write_credentials(path, token)
        _say(f"admin API token written to {path} (mode 0600); `arkive` commands use it")
    return cfg.replace(api_key=token)


async def _up(cfg: StackConfig) -> int:
    if cfg.api_key is None and "ingest" in cfg.services:
        cfg = _admin_token(cfg)
    stack = Stack(cfg, log=_say)
    _say(f"data in {cfg.data_dir.resolve()}, logs in {cfg.logs.resolve()}")
    with stack.signal_handlers():
        try:
            await stack.start()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            _say("interrupted during start-up; everything stopped")
            return 0
        except (StackError, OSError) as e:
            _say(f"start-up failed: {e}")
            return 1
        for line in stack.status_lines():
            _say(line)
        for key, value in stack.env.items():
            print(f"export {key}={value}", flush=True)
        web = f"; dashboard at http://{stack.env['ARKIVE_WEB_ADDR']}/" if "web" in stack.config.services else ""
        _say(f"ready in {stack.started_in:.1f} s; gateway at {stack.gateway_addr}{web}; Ctrl-C stops everything")
        try:
            await stack.run(handle_signals=False)
        except ProcessDiedError as e:
            _say(str(e))
            return 1
    _say("stopped")
    return 0
