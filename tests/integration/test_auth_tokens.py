"""Tokens and grants end to end: the CLI (token create/list/revoke, grant, revoke-grant, login,
whoami), last use, revocation reaching a second gateway over the bus, and the bootstrap admin being
registered exactly once when several ingest replicas start together."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import grpc
import pytest
from arkive_core.errors import PermissionDenied
from arkive_core.tokens import new_token
from support import assert_eventually

import arkive
from arkive_common import db as common_db
from arkive_common import eventlog
from arkive_ingest import auth_model
from arkive_ingest.auth_handlers import bootstrap_admin
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as ag
from arkive_proto.v1 import auth_service_pb2 as aupb
from arkive_proto.v1 import auth_service_pb2_grpc as aug

from .auth_helpers import bearer
from .rawgrpc import unique
from .refs_helpers import extra_gateway

ARKIVE = Path(sys.executable).with_name("arkive")


def cli(stack, *argv: str, key: str | None = None, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")}
    base |= {"ARKIVE_GATEWAY_ADDR": stack.gateway_addr, **env}
    if key is not None:
        base["ARKIVE_API_KEY"] = key
    return subprocess.run([str(ARKIVE), *argv], capture_output=True, text=True, env=base, input=stdin, timeout=120)


def ok_json(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


async def test_cli_tokens_roles_and_revocation(stack, tmp_path: Path) -> None:
    project, other = unique("tok"), unique("toko")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("hello")
    svc = f"{project}-ci"
    create = ["token", "create", "--name", svc, "--project", project, "--role", "writer", "--expires", "30d"]
    made = ok_json(cli(stack, *create, "--json"))  # as the session's admin, from the credentials file
    token, token_id = made["token"], made["token_id"]
    assert token.startswith(f"ark_{token_id}_") and made["expires_at"] > time.time() + 29 * 86400
    art, other_art = arkive.Artifact("m"), arkive.Artifact("m2")
    art.add_dir(tmp_path / "data")
    other_art.add_dir(tmp_path / "data")
    with arkive.Client(stack.gateway_addr, project, progress=False, api_key=token) as client:
        assert client.log_artifact(art).version == 0
        with pytest.raises(PermissionDenied):
            client.log_artifact(art, project=other)
        assert client.whoami().roles == {project: "writer"}

        def used() -> None:
            listed = ok_json(cli(stack, "token", "list", "--json", key=token))["tokens"]
            assert [t["token_id"] for t in listed] == [token_id]  # only its own
            assert listed[0]["last_used_at"] > 0

        await assert_eventually(used, timeout=20, interval=0.5)
        with pytest.raises(PermissionDenied):
            client.list_tokens(all=True)  # everyone's: global admins only
        # a downgrade to reader takes effect on the next call
        assert "is reader of" in cli(stack, "grant", project, svc, "reader").stdout
        with pytest.raises(PermissionDenied):
            client.log_artifact(other_art)
        assert [v.version for v in client.versions(f"{project}/m")] == [0]
        assert cli(stack, "revoke-grant", project, svc).returncode == 0
        with pytest.raises(PermissionDenied):
            client.versions(f"{project}/m")
    # the audit says who did what: the service account logged, the admin granted
    audit = ok_json(cli(stack, "audit", "--project", project, "--since", "1h", "--json"))["events"]
    committed = [e for e in audit if e["type"] == "VersionCommitted"]
    assert [e["principal_id"] for e in committed] == [svc] and committed[0]["correlation_id"]
    grants = [(e["type"], e["principal_id"]) for e in audit if e["stream_id"] == f"grant-{project}"]
    assert grants == [("RoleGranted", "admin"), ("RoleGranted", "admin"), ("RoleRevoked", "admin")]
    assert ok_json(cli(stack, "token", "revoke", token_id, "--json"))["revoked_at"] > 0
    gone = cli(stack, "audit", "--project", project, key=token)
    assert gone.returncode == 1 and "UNAUTHENTICATED" in gone.stderr and "revoked" in gone.stderr


async def test_login_stores_a_checked_token_with_mode_0600(stack, tmp_path: Path) -> None:
    token = ok_json(cli(stack, "token", "create", "--name", unique("login"), "--user", "--json"))["token"]
    config = tmp_path / "cfg"
    bad = cli(stack, "login", stdin=str(new_token()) + "\n", ARKIVE_CONFIG_DIR=str(config))
    assert bad.returncode == 1 and "UNAUTHENTICATED" in bad.stderr and not (config / "credentials").exists()
    assert cli(stack, "login", stdin=token + "\n", ARKIVE_CONFIG_DIR=str(config)).returncode == 0
    path = config / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and token in path.read_text()
    me = ok_json(cli(stack, "whoami", "--json", ARKIVE_CONFIG_DIR=str(config)))
    assert me["kind"] == "user" and me["global_admin"] is False and me["roles"] == {}
    anonymous = cli(stack, "whoami", ARKIVE_CONFIG_DIR=str(tmp_path / "empty"), XDG_CONFIG_HOME=str(tmp_path / "x"))
    assert anonymous.returncode == 1 and "UNAUTHENTICATED" in anonymous.stderr


async def test_revocation_reaches_another_gateway_over_the_bus(stack, tmp_path: Path) -> None:
    admin = os.environ["ARKIVE_API_KEY"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | stack.env
    async with (
        extra_gateway(env, tmp_path / "gw2.log") as addr2,
        grpc.aio.insecure_channel(stack.gateway_addr) as ch1,
        grpc.aio.insecure_channel(addr2) as ch2,
    ):
        one, two = aug.AuthServiceStub(ch1), aug.AuthServiceStub(ch2)
        made = await one.CreateToken(aupb.CreateTokenRequest(principal_id=unique("bus")), metadata=bearer(admin))
        await two.WhoAmI(aupb.WhoAmIRequest(), metadata=bearer(made.token))  # cached on gateway two
        revoked_at = time.monotonic()
        await one.RevokeToken(aupb.RevokeTokenRequest(token_id=made.info.token_id), metadata=bearer(admin))

        async def refused() -> None:
            try:
                await two.WhoAmI(aupb.WhoAmIRequest(), metadata=bearer(made.token))
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
                return
            raise AssertionError("still accepted")

        await assert_eventually(refused, timeout=10, interval=0.02)
        # well inside the cache's 5 s lifetime: the TokenRevoked event emptied it
        assert time.monotonic() - revoked_at < 3.0


async def test_bootstrap_admin_is_registered_once_by_concurrent_replicas(stack) -> None:
    name = unique("boot").replace("-", "_")
    admin_conn = await asyncpg.connect(stack.database_url)
    await admin_conn.execute(f"CREATE DATABASE {name}")
    url = stack.database_url.rsplit("/", 1)[0] + f"/{name}"
    pool = await asyncpg.create_pool(url, min_size=1, max_size=8)
    try:
        await common_db.migrate(pool, "eventlog", eventlog.MIGRATIONS)
        await common_db.migrate(pool, auth_model.COMPONENT, auth_model.MIGRATIONS)
        token = new_token()
        value = f"{token.token_id}:{token.secret_sha256}"
        results = await asyncio.gather(*(bootstrap_admin(pool, value) for _ in range(6)))
        assert results.count(True) == 1
        assert not await bootstrap_admin(pool, f"{new_token().token_id}:{'0' * 64}")  # principals exist now
        rows = await pool.fetch("SELECT type FROM events ORDER BY position")
        assert [r["type"] for r in rows] == ["PrincipalCreated", "TokenIssued"]
        stored = await pool.fetchrow("SELECT * FROM auth_tokens")
        assert stored["token_id"] == token.token_id and stored["secret_sha256"] == token.secret_sha256
        assert await auth_model.rebuild(pool) == 2  # the read model replays from the log
        assert await pool.fetchval("SELECT global_admin FROM auth_principals WHERE principal_id = 'admin'")
    finally:
        await pool.close()
        await admin_conn.execute(f"DROP DATABASE {name}")
        await admin_conn.close()


async def test_events_record_the_principal_and_the_calls_request_id(stack, db: asyncpg.Connection) -> None:
    project = unique("corr")
    async with grpc.aio.insecure_channel(stack.gateway_addr) as channel:
        arts = ag.ArtifactServiceStub(channel)
        metadata = [*bearer(os.environ["ARKIVE_API_KEY"]), ("x-request-id", f"req-{project}")]
        request = apb.CreateDraftRequest(project=project, name="n", type="dataset")
        draft = await arts.CreateDraft(request, metadata=metadata)
        await arts.AbortDraft(
            apb.AbortDraftRequest(draft_id=draft.draft_id), metadata=bearer(os.environ["ARKIVE_API_KEY"])
        )
    rows = await db.fetch(
        "SELECT type, principal, correlation_id, causation_id FROM events WHERE stream_id = $1 ORDER BY position",
        f"draft-{draft.draft_id}",
    )
    assert [(r["type"], r["principal"]) for r in rows] == [("DraftCreated", "admin"), ("DraftAborted", "admin")]
    assert rows[0]["correlation_id"] == rows[0]["causation_id"] == f"req-{project}"
    assert len(rows[1]["correlation_id"]) == 32  # no x-request-id: a new uuid per call


async def test_auth_off_is_explicit_and_logged_loudly(stack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARKIVE_")} | stack.env
    log = tmp_path / "gw-open.log"
    async with extra_gateway(env, log, ARKIVE_AUTH="off") as addr, grpc.aio.insecure_channel(addr) as channel:
        listed = await ag.ArtifactServiceStub(channel).ListArtifacts(apb.ListArtifactsRequest(project=unique("open")))
        assert list(listed.artifacts) == []  # served without any token
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await aug.AuthServiceStub(channel).WhoAmI(aupb.WhoAmIRequest())
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "AUTHENTICATION IS DISABLED" in log.read_text()
