"""Who the signed-in person is (the gateway's WhoAmI) and what the pages offer them.

The gateway is the authority: every write a page offers is an RPC it checks again, so a control
hidden here is a courtesy, never the protection (a forged POST by a reader is refused there with
PERMISSION_DENIED and the page answers 403). Identities are cached briefly per token, so that a page
costs one WhoAmI per few seconds and not one per request.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from aiohttp import web
from arkive_core.errors import FailedPrecondition
from arkive_core.tokens import Role

from arkive import AsyncClient

IDENTITY_TTL = 5.0  # seconds a WhoAmI answer is reused for the same token
MAX_CACHED = 256


@dataclass(frozen=True)
class Access:
    principal: str = ""
    global_admin: bool = False
    roles: dict[str, str] = field(default_factory=dict)
    auth_off: bool = False  # ARKIVE_AUTH=off at the gateway: everyone may do everything

    def role(self, project: str) -> Role | None:
        if self.auth_off or self.global_admin:
            return Role.ADMIN
        name = self.roles.get(project)
        return Role.parse(name) if name else None

    def can_write(self, project: str) -> bool:
        role = self.role(project)
        return role is not None and role >= Role.WRITER

    def can_admin(self, project: str) -> bool:
        return self.role(project) == Role.ADMIN

    def label(self) -> str:
        if self.auth_off:
            return "authentication off"
        return self.principal + (" (admin)" if self.global_admin else "")


class Identities:
    """WhoAmI answers by token hash, each kept IDENTITY_TTL seconds."""

    def __init__(self, ttl: float = IDENTITY_TTL) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Access]] = {}

    async def of(self, token: str, client: AsyncClient) -> Access:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        try:
            me = await client.whoami()
            access = Access(me.principal_id, me.global_admin, dict(me.roles))
        except FailedPrecondition:  # the gateway says authentication is off: no principals
            access = Access(auth_off=True)
        if len(self._cache) >= MAX_CACHED:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl}
        self._cache[key] = (now, access)
        return access


IDENTITIES = web.AppKey("identities", Identities)
