"""Composition root of the ingest service."""

from __future__ import annotations

from arkive_common import api, db
from arkive_common.config import Settings
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient
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
    rt = ServiceRuntime(INGEST.service, settings, migrations=projection.MIGRATIONS)

    async def wire() -> None:
        assert rt.pool is not None and rt.nc is not None
        pool = rt.pool
        await db.migrate(pool, auth_model.COMPONENT, auth_model.MIGRATIONS)
        if settings.bootstrap_token_hash:
            await bootstrap_admin(pool, settings.bootstrap_token_hash)
        h = IngestHandlers(pool, RpcClient(rt.nc, settings.subject_prefix))
        dist = DistributedHandlers(h)

        async def ping(_: api.Empty) -> api.Pong:
            return api.Pong(service=INGEST.service)

        async def rebuild(_: api.Empty) -> api.RebuildResult:
            replayed = await projection.rebuild(pool) + await auth_model.rebuild(pool)
            return api.RebuildResult(service=INGEST.service, events_replayed=replayed)

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

        handle = rt.handlers.handle
        handle(INGEST.ping, ping)
        handle(INGEST.rebuild, rebuild)
        handle(INGEST.create_draft, h.create_draft)
        handle(INGEST.add_files, h.add_files)
        handle(INGEST.commit_draft, h.commit_draft)
        handle(INGEST.assign_aliases, h.assign_aliases)
        handle(INGEST.get_version, get_version)
        handle(INGEST.get_versions, lambda q: queries.resolve_many(pool, q))
        handle(INGEST.find_by_manifest, find_by_manifest)
        handle(INGEST.list_versions, list_versions)
        handle(INGEST.list_artifacts, list_artifacts)
        handle(INGEST.list_files, list_files)
        handle(INGEST.upsert_files, dist.upsert_files)
        handle(INGEST.finish_distributed, dist.finish)
        handle(INGEST.list_drafts, dist.list_drafts)
        handle(INGEST.abort_draft, dist.abort)
        handle(INGEST.remove_files, RemovalHandlers(pool).remove_files)

        deletion = DeletionHandlers(pool)
        handle(INGEST.delete_versions, deletion.delete)
        handle(INGEST.undelete_versions, deletion.undelete)
        handle(INGEST.resolve_any, deletion.resolve_any)
        handle(INGEST.referenced, deletion.referenced)
        handle(INGEST.usage, deletion.usage)
        aliases = AliasHandlers(pool)
        handle(INGEST.set_aliases, aliases.set_aliases)
        handle(INGEST.list_aliases, aliases.list_aliases)
        handle(INGEST.diff_files, lambda q: diff.diff_files(pool, q))

        auth = AuthHandlers(pool)
        handle(INGEST.auth_lookup, auth.lookup)
        handle(INGEST.auth_touch, auth.touch)
        handle(INGEST.auth_draft_project, auth.draft_project)
        handle(INGEST.issue_token, auth.issue_token)
        handle(INGEST.revoke_token, auth.revoke_token)
        handle(INGEST.list_tokens, auth.list_tokens)
        handle(INGEST.grant, auth.grant)
        handle(INGEST.revoke_grant, auth.grant)
        handle(INGEST.audit, lambda q: audit.audit(pool, q))

        handle(INGEST.update_version, AnnotateHandlers(pool).update_version)
        links = LinkHandlers(pool)
        handle(INGEST.link_version, links.link_version)
        handle(INGEST.unlink_version, links.unlink_version)
        handle(INGEST.search_versions, lambda q: search.search(pool, q))
        handle(INGEST.list_links, lambda q: list_links(pool, q))
        handle(INGEST.list_projects, lambda q: projects.list_projects(pool, q))
        handle(INGEST.add_references, lambda c: references.add_references(pool, c, open_draft, draft_stream))
        handle(INGEST.get_reference, lambda q: references.get_reference(pool, q, queries.resolve))

    rt.on_start.append(wire)
    return rt
