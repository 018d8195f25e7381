"""The bus contract of the ingest service: collections, drafts, versions, files, references,
aliases, catalog, deletion and access control."""

from __future__ import annotations

from .. import api
from .. import api_aliases as aa
from .. import api_auth as au
from .. import api_batch as ab
from .. import api_catalog as ac
from .. import api_diff as ad
from .. import api_refs as ar
from .. import api_retention as ra
from ..contract import Contract, Rpc, Timeout
from . import admin

SERVICE = "ingest"
S = SERVICE


class IngestContract(Contract):
    service = SERVICE
    calls = ("hashing",)

    ping = admin.ping(S)
    rebuild = admin.rebuild(S)
    # drafts and versions (a draft is keyed by its request id, which the gateway always sets)
    create_draft = Rpc(S, "create_draft", api.CreateDraft, api.DraftCreatedReply, resend=True)
    add_files = Rpc(S, "add_files", api.AddFiles, api.FileCount, resend=True)
    commit_draft = Rpc(S, "commit_draft", api.CommitDraft, api.Committed, resend=True)
    assign_aliases = Rpc(S, "assign_aliases", api.AssignAliases, api.VersionView)
    upsert_files = Rpc(S, "upsert_files", api.UpsertFiles, api.Upserted, resend=True)
    finish_distributed = Rpc(S, "finish_distributed", api.FinishDistributed, api.Committed, resend=True)
    list_drafts = Rpc(S, "list_drafts", api.ListDrafts, api.DraftList, resend=True)
    abort_draft = Rpc(S, "abort_draft", api.AbortDraft, api.Empty)
    remove_files = Rpc(S, "remove_files", api.RemoveFiles, api.FilesRemoved)
    add_references = Rpc(S, "add_references", ar.AddReferences, api.FileCount)
    # queries
    get_version = Rpc(S, "get_version", api.GetVersion, api.VersionView, resend=True)
    get_versions = Rpc(S, "get_versions", ab.GetVersions, ab.VersionsFound, resend=True)  # each missing one named
    find_by_manifest = Rpc(S, "find_by_manifest", api.FindByManifest, api.MaybeVersion, resend=True)
    list_versions = Rpc(S, "list_versions", api.ListVersions, api.VersionPage, resend=True)
    list_artifacts = Rpc(S, "list_artifacts", api.ListArtifacts, api.CollectionPage, resend=True)
    list_files = Rpc(S, "list_files", api.ListFiles, api.FilePage, resend=True)
    diff_files = Rpc(S, "diff_files", ad.DiffFiles, ad.FileDiffPage)
    get_reference = Rpc(S, "get_reference", ar.GetReference, ar.RefEntry)
    # aliases and catalog
    set_aliases = Rpc(S, "set_aliases", aa.SetAliases, api.VersionView)
    list_aliases = Rpc(S, "list_aliases", aa.ListAliases, aa.AliasList)
    update_version = Rpc(S, "update_version", ac.UpdateVersion, ac.Updated)
    search_versions = Rpc(S, "search_versions", ac.SearchVersions, ac.SearchPage)
    link_version = Rpc(S, "link_version", ac.LinkVersion, ac.Linked)
    list_links = Rpc(S, "list_links", ac.ListLinks, ac.LinkPage)
    unlink_version = Rpc(S, "unlink_version", ac.UnlinkVersion, ac.Unlinked)
    list_projects = Rpc(S, "list_projects", ac.ListProjects, ac.ProjectList)
    # deletion and storage
    delete_versions = Rpc(S, "delete_versions", ra.DeleteVersions, ra.DeleteResult, timeout=Timeout.LONG)
    undelete_versions = Rpc(S, "undelete_versions", ra.UndeleteVersions, ra.DeleteResult, timeout=Timeout.LONG)
    resolve_any = Rpc(S, "resolve_any", ra.ResolveAny, ra.ResolvedRef)
    referenced = Rpc(S, "referenced_digests", ra.Digests, ra.Digests)
    usage = Rpc(S, "storage_usage", ra.StorageUsage, ra.UsageReport, timeout=Timeout.LONG)
    # access control (auth_lookup and auth_touch run on every gRPC call: they fail fast)
    auth_lookup = Rpc(S, "auth_lookup", au.TokenLookup, au.TokenAuth, timeout=Timeout.FAST)
    auth_touch = Rpc(S, "auth_touch", au.TokenTouch, au.Done, timeout=Timeout.FAST)
    auth_draft_project = Rpc(S, "auth_draft_project", au.DraftRef, au.ProjectOf)
    issue_token = Rpc(S, "auth_issue_token", au.IssueToken, au.TokenView)
    revoke_token = Rpc(S, "auth_revoke_token", au.RevokeToken, au.TokenView)
    list_tokens = Rpc(S, "auth_list_tokens", au.ListTokens, au.TokenPage)
    grant = Rpc(S, "auth_grant", au.Grant, au.Done)
    revoke_grant = Rpc(S, "auth_revoke_grant", au.Grant, au.Done)
    audit = Rpc(S, "auth_audit", au.AuditQuery, au.AuditPage, timeout=60.0)


INGEST = IngestContract()
