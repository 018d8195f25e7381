"""The embedded NATS' users: one per service, each allowed only the subjects that service uses.

Without an `authorization` block nats-server lets any local process subscribe to any service's RPC
subjects and publish forged events into the stream. The launcher therefore keeps one generated
password per user in `secrets/nats/<user>` (mode 0600, the only place it is stored besides the
nats-server config, also 0600) and writes the users with their permissions into nats-server.conf.
Each service gets ARKIVE_NATS_USER and ARKIVE_NATS_PASSWORD_FILE; never the password itself on a
command line.

Permissions are keyed by subject prefix, not by method: a new RPC method or event type needs no change here.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

EVENT_PUBLISHERS = ("ingest", "hashing", "lineage", "retention")
"""Services built on ServiceRuntime: each runs an outbox relay (which publishes any service's
committed events: the outbox is shared), JetStream consumers and its RPC methods."""
GATEWAY = "gateway"
"""Calls the services' RPC methods and watches the principal and grant events (a plain subscription)."""
ADMIN = "admin"
"""Everything: for operators' tools and tests on the same host, never given to a service."""
USERS = (*EVENT_PUBLISHERS, GATEWAY, ADMIN)
INBOX = "_INBOX.>"  # replies to requests, JetStream API answers and pull-consumer deliveries


def permissions(user: str, prefix: str, stream: str) -> dict[str, Any]:
    """nats-server `permissions` of `user` for subject prefix `prefix` and event stream `stream`."""
    if user == ADMIN:
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    own_rpc, status = f"{prefix}.rpc.{user}.>", f"{prefix}.status"
    publish = [f"{prefix}.rpc.>", INBOX]  # requests to any service, replies to any caller
    # only the owning service answers its RPC subjects; every process answers status requests
    subscribe = [own_rpc, INBOX, status]
    if user in EVENT_PUBLISHERS:
        # the relay's publishes, the consumers' acks, and stream/consumer management
        publish += [f"{prefix}.events.>", "$JS.API.>", f"$JS.ACK.{stream}.>"]
    elif user == GATEWAY:
        subscribe.append(f"{prefix}.events.>")  # token cache invalidation; it publishes none
        publish.append(status)  # `arkive status` asks every process
    else:
        raise ValueError(f"no NATS permissions for {user!r}")
    return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}


def ensure_passwords(directory: Path) -> dict[str, str]:
    """Each user's password from `directory`/<user>, generating missing ones (rotation: delete a
    file, or the directory, while the stack is stopped)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    passwords: dict[str, str] = {}
    for user in USERS:
        path = directory / user
        try:
            value = path.read_text().strip()
        except OSError:
            value = ""
        if not value:
            value = secrets.token_hex(24)  # hex: safe in a URL and a config string without quoting
            write_private(path, value + "\n")
        elif path.stat().st_mode & 0o077:
            path.chmod(0o600)
        passwords[user] = value
    return passwords


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the first byte, replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to an existing leftover
    os.replace(tmp, path)


def authorization(passwords: dict[str, str], prefix: str, stream: str) -> str:
    """The nats-server.conf `authorization` block (JSON is valid nats-server config syntax)."""
    users = [
        {"user": user, "password": password, "permissions": permissions(user, prefix, stream)}
        for user, password in passwords.items()
    ]
    return "authorization: " + json.dumps({"users": users}, indent=1) + "\n"
