"""Composition root of the ingest service."""

from __future__ import annotations

from arkive_common import api, db
from arkive_common import api_auth as aa
from arkive_common import api_catalog as ac
from arkive_common import api_diff as ad
from arkive_common import api_refs as ar
from arkive_common.config import Settings
from arkive_common.rpc import Method, RpcClient
from arkive_common.service import ServiceRuntime

from . import audit, auth_model, diff, projection, projects, queries, references, search
from .aliases import AliasHandlers
from .annotate import AnnotateHandlers
from .auth_handlers import AuthHandlers, bootstrap_admin
from .deletion import DeletionHandlers
from .distributed import DistributedHandlers
from .handlers import IngestHandlers, draft_stream, open_draft
from .links import LinkHandlers, list_links
from .removal import RemovalHandlers


async def bootstrap(settings: Settings) -> ServiceRuntime:
    rt = ServiceRuntime(api.INGEST, settings, migrations=projection.MIGRATIONS)

    async def wire() -> None:
        assert rt.pool is not None and rt.nc is not None
        pool = rt.pool
        await db.migrate(pool, auth_model.COMPONENT, auth_model.MIGRATIONS)
        if settings.bootstrap_token_hash:
            await bootstrap_admin(pool, settings.bootstrap_token_hash)
        h = IngestHandlers(pool, RpcClient(rt.nc, settings.subject_prefix))
        dist = DistributedHandlers(h)

        async def ping(_: api.Empty) -> api.Pong:
            return api.Pong(service=api.INGEST)

        async def rebuild(_: api.Empty) -> api.RebuildResult:
            replayed = await projection.rebuild(pool) + await auth_model.rebuild(pool)
            return api.RebuildResult(service=api.INGEST, events_replayed=replayed)

        async def get_version(q: api.GetVersion) -> api.VersionView:
            if q.as_of is not None:
                return await queries.resolve_as_of(pool, q.ref, q.as_of)
            return await queries.resolve(pool, q.ref)

        async def find_by_manifest(q: api.FindByManifest) -> api.MaybeVersion:
            return await queries.find_by_manifest(pool, q)

        async def list_versions(q: api.ListVersions) -> api.VersionPage:
            return await queries.list_versions(pool, q)

        async def list_artifacts(q: api.ListArtifacts) -> api.CollectionPage:
            return await queries.list_artifacts(pool, q)

        async def list_files(q: api.ListFiles) -> api.FilePage:
            return await queries.list_files(pool, q)

        rt.methods.update(
            {
                api.PING: Method(api.Empty, ping),
                api.REBUILD: Method(api.Empty, rebuild),
                "create_draft": Method(api.CreateDraft, h.create_draft),
                "add_files": Method(api.AddFiles, h.add_files),
                "commit_draft": Method(api.CommitDraft, h.commit_draft),
                "assign_aliases": Method(api.AssignAliases, h.assign_aliases),
                "get_version": Method(api.GetVersion, get_version),
                "find_by_manifest": Method(api.FindByManifest, find_by_manifest),
                "list_versions": Method(api.ListVersions, list_versions),
                "list_artifacts": Method(api.ListArtifacts, list_artifacts),
                "list_files": Method(api.ListFiles, list_files),
                "upsert_files": Method(api.UpsertFiles, dist.upsert_files),
                "finish_distributed": Method(api.FinishDistributed, dist.finish),
                "list_drafts": Method(api.ListDrafts, dist.list_drafts),
                "abort_draft": Method(api.AbortDraft, dist.abort),
            }
        )

        rt.methods.update(DeletionHandlers(pool).methods())
        rt.methods.update(AliasHandlers(pool).methods())
        rt.methods[ad.DIFF_FILES] = Method(ad.DiffFiles, lambda q: diff.diff_files(pool, q))
        auth = AuthHandlers(pool)
        rt.methods.update(
            {
                aa.LOOKUP: Method(aa.TokenLookup, auth.lookup),
                aa.TOUCH: Method(aa.TokenTouch, auth.touch),
                aa.DRAFT_PROJECT: Method(aa.DraftRef, auth.draft_project),
                aa.ISSUE_TOKEN: Method(aa.IssueToken, auth.issue_token),
                aa.REVOKE_TOKEN: Method(aa.RevokeToken, auth.revoke_token),
                aa.LIST_TOKENS: Method(aa.ListTokens, auth.list_tokens),
                aa.GRANT: Method(aa.Grant, auth.grant),
                aa.REVOKE_GRANT: Method(aa.Grant, auth.grant),
                aa.AUDIT: Method(aa.AuditQuery, lambda q: audit.audit(pool, q)),
            }
        )
        rt.methods[ac.UPDATE_VERSION] = Method(ac.UpdateVersion, AnnotateHandlers(pool).update_version)
        links = LinkHandlers(pool)
        rt.methods[ac.LINK_VERSION] = Method(ac.LinkVersion, links.link_version)
        rt.methods[ac.UNLINK_VERSION] = Method(ac.UnlinkVersion, links.unlink_version)
        rt.methods[ac.SEARCH_VERSIONS] = Method(ac.SearchVersions, lambda q: search.search(pool, q))
        rt.methods[ac.LIST_LINKS] = Method(ac.ListLinks, lambda q: list_links(pool, q))
        rt.methods[ac.LIST_PROJECTS] = Method(ac.ListProjects, lambda q: projects.list_projects(pool, q))
        rt.methods["remove_files"] = Method(api.RemoveFiles, RemovalHandlers(pool).remove_files)
        rt.methods[ar.ADD_REFERENCES] = Method(
            ar.AddReferences, lambda c: references.add_references(pool, c, open_draft, draft_stream)
        )
        rt.methods[ar.GET_REFERENCE] = Method(
            ar.GetReference, lambda q: references.get_reference(pool, q, queries.resolve)
        )

    rt.on_start.append(wire)
    return rt
