"""No service log of a run that issued and used tokens holds a token secret (logs.py masks them)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from arkive_core.tokens import parse_token

import arkive


async def test_service_logs_hold_no_token_secret(stack, admin_token):
    project = f"logsec-{uuid.uuid4().hex[:8]}"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, progress=False) as admin:
        issued = await admin.create_token(f"svc-{uuid.uuid4().hex[:6]}", project=project, role="reader")
    secret = parse_token(issued.token).secret
    async with arkive.AsyncClient(stack.gateway_addr, project=project, api_key=issued.token, progress=False) as c:
        await c.whoami()
        with pytest.raises(arkive.ArkiveError):
            await c.get_version(f"{project}/missing:v0")
    wrong = f"{issued.token[:-4]}0000" if not issued.token.endswith("0000") else f"{issued.token[:-4]}1111"
    async with arkive.AsyncClient(stack.gateway_addr, project=project, api_key=wrong, progress=False) as c:
        with pytest.raises((arkive.ArkiveError, grpc.RpcError)):
            await c.whoami()
    text = "\n".join(p.read_text(errors="replace") for p in stack.config.logs.glob("*.log"))
    assert parse_token(admin_token).token_id in text  # the bootstrap line names the token by its id
    for value in (secret, parse_token(admin_token).secret, wrong.rsplit("_", 1)[1]):
        assert value not in text
