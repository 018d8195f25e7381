"""What the launcher does for the web dashboard (services/web): its address, its CSRF key, and
leaving it out where it is not installed."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence

from .config import StackConfig
from .ports import split_addr


def plan_addr(cfg: StackConfig, port: Callable[[int, str], int]) -> str:
    """ARKIVE_WEB_ADDR: cfg.web_addr, its port chosen like every other port when web is started."""
    host, web_port = split_addr(cfg.web_addr)
    return f"{host}:{port(web_port, 'web') if 'web' in cfg.services else web_port}"


def with_secret(env: dict[str, str]) -> dict[str, str]:
    """Dashboard replicas share one CSRF signing key (a form served by one is posted to another).
    It goes to the processes only, never into Stack.env, which `arkive up` prints."""
    env.setdefault("ARKIVE_WEB_SECRET", secrets.token_hex(32))
    return env


def startable(names: Sequence[str], commands: Mapping[str, object], log: Callable[[str], None]) -> Iterator[str]:
    """`names` without web when arkive_web cannot be imported: the dashboard is optional, and a
    virtualenv made before it existed runs the core without it (and says so)."""
    for name in names:
        if name == "web" and name not in commands and importlib.util.find_spec("arkive_web") is None:
            log("web dashboard not started: arkive_web is not installed (make install)")
            continue
        yield name
