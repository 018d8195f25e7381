"""The rule table: for every RPC, the role a caller needs and where the project comes from.

A method without a rule is refused (PERMISSION_DENIED), so a new RPC is closed until someone writes
its rule; tests/integration/test_auth_matrix.py walks the proto descriptors and fails on a method
missing here. Where a request names a draft, a run or a bare version id instead of a project, the
gateway resolves it to its project first (auth_check.Resolver).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from arkive_core.tokens import Role

ANONYMOUS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)


class Source(Enum):
    """Where a check finds its project."""

    PROJECT = "project"  # a project name field ("" means every project: global admins only)
    # a project name field, or "": then the handler filters by the caller's read grants (projects.py)
    PROJECT_OR_READABLE = "project_or_readable"
    REF = "ref"  # an artifact ref field: project/name:selector, a bare version id, or run:<id>
    DRAFT = "draft"  # a draft id field
    RUN = "run"  # a run id field
    ANY = "any"  # no project (content-addressed blobs): the role on at least one project
    GLOBAL = "global"  # global admins only (GC, rebuild, cluster-wide counters)
    SELF = "self"  # any valid token; the auth owner checks what it may change (AuthService)
    READABLE = "readable"  # any valid token; the handler answers only for projects it may read


@dataclass(frozen=True, slots=True)
class Check:
    role: Role
    source: Source
    field: str = ""  # dotted path in the request ("policy.project")


@dataclass(frozen=True, slots=True)
class Rule:
    checks: tuple[Check, ...]


R, W, A = Role.READER, Role.WRITER, Role.ADMIN


def _on(role: Role, source: Source, field: str = "") -> Rule:
    return Rule((Check(role, source, field),))


def project(role: Role, field: str = "project") -> Rule:
    return _on(role, Source.PROJECT, field)


def ref(role: Role, field: str = "ref") -> Rule:
    return _on(role, Source.REF, field)


def draft(role: Role) -> Rule:
    return _on(role, Source.DRAFT, "draft_id")


def run(role: Role) -> Rule:
    return _on(role, Source.RUN, "run_id")


ANY_READ, ANY_WRITE = _on(R, Source.ANY), _on(W, Source.ANY)
GLOBAL = _on(A, Source.GLOBAL)
SELF = _on(R, Source.SELF)
READABLE = _on(R, Source.READABLE)

_RULES: dict[str, dict[str, Rule]] = {
    "AdminService": {
        "RebuildProjections": GLOBAL,
        "GetBlobStats": GLOBAL,
        "ScrubBlobs": GLOBAL,
        # a client whose download did not verify reports it; the server only re-reads those blobs
        "ReportCorruptBlobs": ANY_READ,
        "ListDeadLetters": GLOBAL,
        "RetryDeadLetter": GLOBAL,
        "CheckConsumers": GLOBAL,
        "GetStatus": GLOBAL,  # operational: names hosts, versions and lags of the whole deployment
    },
    "ArtifactService": {
        "CreateDraft": project(W),
        "AddFiles": draft(W),
        "CommitDraft": draft(W),
        "GetVersion": ref(R),
        "FindVersionByManifest": project(R),
        "AssignAliases": ref(W),
        "ListVersions": project(R),
        "ListArtifacts": project(R),
        "ListFiles": ref(R),
        "UpsertFiles": project(W),
        "FinishDistributed": project(W),
        "ListDrafts": project(R),
        "AbortDraft": draft(W),
        "RemoveFiles": draft(W),
        "SetAliases": ref(W),
        "ListAliases": project(R),
        # both versions are read: each ref's project needs the reader role
        "DiffFiles": Rule((Check(R, Source.REF, "ref_a"), Check(R, Source.REF, "ref_b"))),
    },
    # Blobs are content-addressed and shared by every project: uploading needs write somewhere,
    # reading by digest read somewhere (see docs/architecture.md, "Authentication", for the limit).
    "BlobService": {
        "FindMissingBlobs": ANY_WRITE,
        "UploadBlob": ANY_WRITE,
        "DownloadBlob": ANY_READ,
        "UploadBlobs": ANY_WRITE,
        "DownloadBlobs": ANY_READ,
        "ComposeBlob": ANY_WRITE,
        "StartDirectUpload": ANY_WRITE,
        "FinishDirectUpload": ANY_WRITE,
        "GetDownloadUrls": ANY_READ,
    },
    "CatalogService": {
        "UpdateVersion": ref(W),
        "SearchVersions": _on(R, Source.PROJECT_OR_READABLE, "project"),  # all_projects: readable ones
        # read on the source, write on the target
        "LinkVersion": Rule((Check(R, Source.REF, "ref"), Check(W, Source.PROJECT, "target_project"))),
        "ListLinks": project(R),
        "UnlinkVersion": project(W),
        "ListProjects": READABLE,
    },
    "LineageService": {
        "StartRun": project(W),
        "HeartbeatRun": run(W),
        "FinishRun": run(W),
        "GetRun": run(R),
        "ListRuns": project(R),
        "UseArtifact": Rule((Check(W, Source.RUN, "run_id"), Check(R, Source.REF, "ref"))),
        "RecordCacheKey": run(W),
        "LookupCache": project(R),
        "GetLineage": ref(R),
    },
    "ReferenceService": {
        "AddReferences": draft(W),
        "DownloadReference": ref(R),
        "RegisterObjects": project(W),
    },
    "RetentionService": {
        "DeleteVersion": ref(A),
        "DeleteCollection": project(A),
        "UndeleteVersion": ref(A),
        "UndeleteCollection": project(A),
        "SetVersionTtl": ref(A),
        "SetDefaultTtl": project(A),
        "PutPolicy": project(A, "policy.project"),
        "RemovePolicy": project(A),
        "ListPolicies": project(R),
        "PlanRetention": project(R),
        "ApplyRetention": project(A),
        "CollectGarbage": GLOBAL,
        "GetStorageReport": project(R),
        "GetVersionTtl": ref(R),
    },
    "AuthService": {
        "WhoAmI": SELF,
        "CreateToken": SELF,
        "ListTokens": SELF,
        "RevokeToken": SELF,
        "GrantRole": SELF,
        "RevokeRole": SELF,
        "ListAuditEvents": SELF,
    },
}

RULES: dict[str, Rule] = {
    f"/arkive.v1.{service}/{method}": rule for service, methods in _RULES.items() for method, rule in methods.items()
}
