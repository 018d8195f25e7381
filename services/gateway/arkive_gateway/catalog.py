"""CatalogService: metadata after commit, search and registry links. Validates what it can
(ingest checks again), forwards to ingest, converts the answer."""

from __future__ import annotations

from arkive_core.errors import InvalidArgument
from arkive_core.limits import MAX_KEY_CHARS, MAX_METADATA_KEYS_TO_UNSET, check_text
from arkive_core.refs import parse_ref
from arkive_core.validation import MAX_TAGS, check_description, check_list, check_name, check_tag, parse_metadata

from arkive_common import api_catalog as ac
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient
from arkive_proto.v1 import catalog_service_pb2 as pb
from arkive_proto.v1 import catalog_service_pb2_grpc as pb_grpc

from . import convert, projects
from .errors import unary


class CatalogServicer(pb_grpc.CatalogServiceServicer):
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    @unary
    async def UpdateVersion(self, request: pb.UpdateVersionRequest, context) -> pb.UpdateVersionResponse:
        parse_ref(request.ref)
        check_list(list(request.add_tags), check_tag, "add_tags", MAX_TAGS)
        check_list(list(request.remove_tags), check_tag, "remove_tags", MAX_TAGS)
        if len(request.unset_metadata_keys) > MAX_METADATA_KEYS_TO_UNSET:
            raise InvalidArgument(f"too many unset_metadata_keys: more than {MAX_METADATA_KEYS_TO_UNSET}")
        for key in request.unset_metadata_keys:
            check_text(key, "unset_metadata_keys", MAX_KEY_CHARS)
        if request.HasField("description"):
            check_description(request.description)
        cmd = ac.UpdateVersion(
            ref=request.ref,
            assign=parse_metadata(request.set_metadata_json),
            unset=list(request.unset_metadata_keys),
            add_tags=list(request.add_tags),
            remove_tags=list(request.remove_tags),
            description=request.description if request.HasField("description") else None,
        )
        reply = await self.rpc.call(INGEST.update_version, cmd)
        return pb.UpdateVersionResponse(version=convert.version(reply.version), changed=reply.changed)

    @unary
    async def SearchVersions(self, request: pb.SearchVersionsRequest, context) -> pb.SearchVersionsResponse:
        if request.all_projects:
            if request.project:
                raise InvalidArgument("name a project or set all_projects, not both")
        else:
            check_name(request.project, "project")
        if len(request.metadata_filters) > ac.MAX_FILTERS:
            raise InvalidArgument(f"at most {ac.MAX_FILTERS} metadata_filters")
        check_text(request.name_pattern, "name_pattern")
        check_text(request.order_by, "order_by", MAX_KEY_CHARS)

        def seconds(field: str) -> float | None:
            return getattr(request, field).ToNanoseconds() / 1e9 if request.HasField(field) else None

        query = ac.SearchVersions(
            project=request.project,
            type=request.type,
            name_pattern=request.name_pattern,
            tags=list(request.tags),
            alias=request.alias,
            created_after=seconds("created_after"),
            created_before=seconds("created_before"),
            metadata=[ac.parse_predicate(text) for text in request.metadata_filters],
            run_id=request.run_id,
            order_by=request.order_by or "-created_at",
            page_size=request.page_size,
            page_token=request.page_token,
            all_projects=request.all_projects,
            projects=projects.readable_projects() if request.all_projects else None,
        )
        page = await self.rpc.call(INGEST.search_versions, query)
        return pb.SearchVersionsResponse(
            versions=[convert.version(v) for v in page.versions], next_page_token=page.next_page_token
        )

    @unary
    async def LinkVersion(self, request: pb.LinkVersionRequest, context) -> pb.LinkVersionResponse:
        parse_ref(request.ref)
        check_name(request.target_project, "project")
        check_name(request.target_name)
        cmd = ac.LinkVersion(request.ref, request.target_project, request.target_name, list(request.aliases))
        reply = await self.rpc.call(INGEST.link_version, cmd)
        return pb.LinkVersionResponse(
            version=convert.version(reply.version),
            target_project=reply.target_project,
            target_name=reply.target_name,
            link_version=reply.link_version,
            aliases=reply.aliases,
            created=reply.created,
        )

    @unary
    async def ListLinks(self, request: pb.ListLinksRequest, context) -> pb.ListLinksResponse:
        check_name(request.project, "project")
        check_name(request.name)
        query = ac.ListLinks(request.project, request.name, request.page_size, request.page_token)
        page = await self.rpc.call(INGEST.list_links, query)
        links = []
        for link in page.links:
            msg = pb.Link(
                link_version=link.link_version,
                version_id=link.version_id,
                aliases=link.aliases,
                linked_at=convert.timestamp(link.linked_at),
            )
            if link.version is not None:
                msg.version.CopyFrom(convert.version(link.version))
            links.append(msg)
        return pb.ListLinksResponse(links=links, next_page_token=page.next_page_token)

    @unary
    async def UnlinkVersion(self, request: pb.UnlinkVersionRequest, context) -> pb.UnlinkVersionResponse:
        check_name(request.project, "project")
        check_name(request.name)
        check_name(request.selector, "link selector")
        cmd = ac.UnlinkVersion(request.project, request.name, request.selector)
        reply = await self.rpc.call(INGEST.unlink_version, cmd)
        return pb.UnlinkVersionResponse(
            link_version=reply.link_version,
            version_id=reply.version_id,
            linked_from=reply.linked_from,
            aliases_removed=reply.aliases_removed,
        )

    @unary
    async def ListProjects(self, request: pb.ListProjectsRequest, context) -> pb.ListProjectsResponse:
        return await projects.list_projects(self.rpc)
