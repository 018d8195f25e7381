"""Every RPC of the gateway, walked from the proto descriptors, with no token, bad tokens and each
role: UNAUTHENTICATED, PERMISSION_DENIED or allowed as the access rules say, and a denied call
writes no event. Allowed calls may fail for their own reasons (NOT_FOUND, INVALID_ARGUMENT,
FAILED_PRECONDITION): what matters is that they passed the auth check.

The expected role of each method is written down here, independently of the gateway's rule table,
and a method missing here fails the test (a new RPC must be classified)."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
from arkive_core.tokens import new_token
from support import assert_eventually

from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as ag
from arkive_proto.v1 import auth_service_pb2 as aupb
from arkive_proto.v1 import auth_service_pb2_grpc as aug
from arkive_proto.v1 import lineage_service_pb2 as lpb
from arkive_proto.v1 import lineage_service_pb2_grpc as lg
from arkive_proto.v1 import types_pb2

from .auth_helpers import admin_token, all_methods, bearer, call_code, create_token, request_for
from .rawgrpc import Raw, digest_of, unique

# G: global admins only; anyR/anyW: the role on some project (content-addressed blobs);
# self: any valid token (the request itself is refused or limited to the caller's own tokens);
# R/W/A: reader/writer/admin on the project the request concerns.
EXPECTED: dict[str, str] = {
    **dict.fromkeys(
        """RebuildProjections GetBlobStats CollectGarbage ScrubBlobs ListDeadLetters RetryDeadLetter
        CheckConsumers GetStatus""".split(),
        "G",
    ),
    **dict.fromkeys(
        "FindMissingBlobs UploadBlob UploadBlobs ComposeBlob StartDirectUpload FinishDirectUpload".split(), "anyW"
    ),
    **dict.fromkeys("DownloadBlob DownloadBlobs GetDownloadUrls ReportCorruptBlobs".split(), "anyR"),
    **dict.fromkeys("WhoAmI CreateToken ListTokens RevokeToken ListProjects".split(), "self"),
    **dict.fromkeys(
        """GetVersion FindVersionByManifest ListVersions ListArtifacts ListFiles ListDrafts SearchVersions
        ListLinks GetRun ListRuns LookupCache GetLineage DownloadReference ListPolicies PlanRetention
        GetStorageReport ListAliases DiffFiles GetVersionTtl""".split(),
        "R",
    ),
    **dict.fromkeys(
        """CreateDraft AddFiles CommitDraft AssignAliases UpsertFiles FinishDistributed AbortDraft RemoveFiles
        UpdateVersion LinkVersion StartRun HeartbeatRun FinishRun UseArtifact RecordCacheKey AddReferences
        RegisterObjects SetAliases UnlinkVersion""".split(),
        "W",
    ),
    **dict.fromkeys(
        """DeleteVersion DeleteCollection UndeleteVersion UndeleteCollection SetVersionTtl SetDefaultTtl
        PutPolicy RemovePolicy ApplyRetention GrantRole RevokeRole ListAuditEvents""".split(),
        "A",
    ),
}
RANK = {"reader": 1, "writer": 2, "admin": 3}
DENIED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def expect_allowed(kind: str, identity: str) -> bool:
    """identity: "global", "wrong" (admin of another project) or a role on the project."""
    if identity == "global" or kind == "self":
        return True
    if kind == "G":
        return False
    if kind == "anyR":
        return True  # every test identity holds some role somewhere
    if kind == "anyW":
        return identity != "reader"  # "wrong" administers another project
    return identity != "wrong" and RANK[identity] >= RANK[{"R": "reader", "W": "writer", "A": "admin"}[kind]]


async def _world(stack, project: str) -> dict[str, Any]:
    """A version, an open draft and a run in `project`, and the field values requests are made of."""
    raw = Raw(stack.gateway_addr)
    try:
        data = b"matrix"
        await raw.upload(data)
        arts = ag.ArtifactServiceStub(raw.channel)
        d = await arts.CreateDraft(apb.CreateDraftRequest(project=project, name="thing", type="dataset"))
        entry = types_pb2.FileEntry(path="a.txt", digest=digest_of(data), size=len(data))
        await arts.AddFiles(apb.AddFilesRequest(draft_id=d.draft_id, files=[entry]))
        version = (await arts.CommitDraft(apb.CommitDraftRequest(draft_id=d.draft_id))).version
        draft = await arts.CreateDraft(apb.CreateDraftRequest(project=project, name="open", type="dataset"))
        run = await lg.LineageServiceStub(raw.channel).StartRun(lpb.StartRunRequest(project=project, name="r"))
    finally:
        await raw.close()
    return {
        "project": project,
        "target_project": project,
        "name": "nothing",
        "target_name": "nothing",
        "ref": version.version_id,
        "ref_a": version.version_id,
        "ref_b": version.version_id,
        "draft_id": draft.draft_id,
        "run_id": run.run.run_id,
        "dry_run": True,
    }


async def _events(db: asyncpg.Connection, world: dict[str, Any]) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM events WHERE stream_id LIKE '%' || $1 || '%' OR stream_id = ANY($2::text[])"
        " OR stream_id LIKE 'principal-%' OR stream_id LIKE 'grant-%' OR stream_id LIKE 'gc-%'",
        world["project"],
        [f"draft-{world['draft_id']}", f"run-{world['run_id']}"],
    )


async def test_every_rpc_has_an_expectation_and_a_rule() -> None:
    from arkive_gateway.auth_rules import RULES

    names = {m.name for m in all_methods()}
    assert names == set(EXPECTED), f"classify: {names ^ set(EXPECTED)}"
    assert {f"/{m.containing_service.full_name}/{m.name}" for m in all_methods()} == set(RULES)


async def test_auth_matrix(stack, db: asyncpg.Connection) -> None:
    project, other = unique("mx"), unique("mxo")
    world = await _world(stack, project)
    channel = grpc.aio.insecure_channel(stack.gateway_addr)
    admin = admin_token()
    try:
        tokens = {
            role: await create_token(channel, admin, f"{project}-{role}", project=project, role=role) for role in RANK
        }
        tokens["wrong"] = await create_token(channel, admin, f"{project}-wrong", project=other, role="admin")
        tokens["global"] = admin
        revoked = await create_token(channel, admin, f"{project}-revoked", project=project, role="admin")
        expiring = await create_token(channel, admin, f"{project}-expiring", project=project, role="admin", expires=1)
        auth = aug.AuthServiceStub(channel)
        await auth.WhoAmI(aupb.WhoAmIRequest(), metadata=bearer(revoked))  # now in the gateway's cache
        token_id = revoked.split("_")[1]
        await auth.RevokeToken(aupb.RevokeTokenRequest(token_id=token_id), metadata=bearer(admin))
        unauthenticated = {
            "none": [],
            "malformed": [("authorization", "Bearer nonsense")],
            "unknown": bearer(str(new_token())),
            "revoked": bearer(revoked),
            "expired": bearer(expiring),
        }

        async def expired() -> None:
            code = await call_code(channel, _method("WhoAmI"), aupb.WhoAmIRequest(), bearer(expiring))
            assert code == grpc.StatusCode.UNAUTHENTICATED

        await assert_eventually(expired, timeout=5)
        # AuthService requests that name something real: grants on the project need its admin.
        values = dict(world, principal_id=f"{project}-reader", role="reader")
        specific = {
            "CreateToken": aupb.CreateTokenRequest(),
            "RevokeToken": aupb.RevokeTokenRequest(),
            "RevokeRole": aupb.RevokeRoleRequest(project=project, principal_id=f"{project}-wrong"),
        }
        failures: list[str] = []
        for m in all_methods():
            kind = EXPECTED[m.name]
            request = specific.get(m.name) or request_for(m, values)
            for label, metadata in unauthenticated.items():
                before = await _events(db, world)
                code = await call_code(channel, m, request, metadata)
                if code != grpc.StatusCode.UNAUTHENTICATED:
                    failures.append(f"{m.name} with {label} token: {code.name}")
                if await _events(db, world) != before:
                    failures.append(f"{m.name} with {label} token wrote events")
            for identity, token in tokens.items():
                if identity == "global" and m.name in ("RebuildProjections", "ScrubBlobs"):
                    continue  # allowed and slow: test_rebuild.py and test_scrub.py run them
                before = await _events(db, world)
                code = await call_code(channel, m, request, bearer(token))
                allowed = expect_allowed(kind, identity)
                if (allowed and code in DENIED) or (not allowed and code != grpc.StatusCode.PERMISSION_DENIED):
                    failures.append(f"{m.name} ({kind}) as {identity}: {code.name}")
                if not allowed and await _events(db, world) != before:
                    failures.append(f"{m.name} as {identity} was denied but wrote events")
        assert not failures, "\n".join(failures)
    finally:
        await channel.close()


def _method(name: str):
    return next(m for m in all_methods() if m.name == name)


async def test_health_check_stays_anonymous(stack) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(stack.gateway_addr) as channel:
        resp = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
