"""AsyncClient: the one real implementation of the SDK, on grpc.aio; Client is generated from it (_blocking.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import grpc
from arkive_core import credentials
from arkive_core.errors import FailedPrecondition, InvalidArgument
from arkive_core.refs import parse_ref
from arkive_core.validation import (
    check_name,
    check_type,
)

from arkive_proto.v1 import admin_service_pb2 as adpb
from arkive_proto.v1 import admin_service_pb2_grpc as adgrpc
from arkive_proto.v1 import artifact_service_pb2 as apb
from arkive_proto.v1 import artifact_service_pb2_grpc as agrpc

from ._aliases import Aliases
from ._blob_stats import BlobStats
from ._checkout import Checkout, folder_prefix
from ._connection import Connection
from ._consumers import Consumers
from ._convert import (
    collection_from_proto,
    version_from_proto,
)
from ._diff import Diffs
from ._feature import Feature, delegate, delegate_iter
from ._incremental import log_based
from ._log import log_new
from ._log_options import LogOptions
from ._projects import Projects
from ._references import Register, split_artifact_refs
from ._registry import Registry
from ._rpc import Retry, default_address, default_project
from ._scrub import ScrubResult, scrub_all
from ._status import Status
from ._stream import Streams
from ._ttl import Ttls
from ._when import as_of_seconds
from .artifact import Artifact
from .auth import Auth
from .catalog import Catalog
from .distributed import Distributed
from .engine import operations
from .engine.paths import check_layout
from .engine.progress import make_progress
from .engine.references import ReferenceFile, reference_file
from .engine.wire import BlobStub
from .retention import INHERIT, Retention
from .runs import Lineage, StepCache
from .typed import Typed
from .version import ArtifactCollection, ArtifactVersion, DownloadResult, FileInfo

PAGE_SIZE = 1000
F = TypeVar("F", bound=Feature)
VersionRef = str | ArtifactVersion


def _setting(name: str, doc: str) -> Any:
    def get(client: AsyncClient) -> Any:
        return getattr(client._conn, name)

    def put(client: AsyncClient, value: Any) -> None:
        setattr(client._conn, name, value)

    return property(get, put, doc=doc)


class AsyncClient:
    """Talks to the arkive gateway; every method is a coroutine.

        async with arkive.AsyncClient() as client:
            version = await client.log_artifact(art, project="demo", aliases=["best"])
            path = await (await client.use_artifact("demo/mnist:best")).adownload("restored/")

    address: "host:port" of the gateway (default ARKIVE_GATEWAY_ADDR or 127.0.0.1:50051).
    project: used when a ref or call names none (default ARKIVE_PROJECT or "default").
    timeout: seconds allowed for each non-streaming call; transfers have no deadline.
    retry_deadline: seconds an operation keeps retrying idempotent calls (and waiting for a
    restarting gateway) before it fails (default ARKIVE_RETRY_DEADLINE or 60; 0 fails at once).
    progress: byte progress bars on stderr; None shows them iff stderr is a terminal.
    api_key: the API token sent with every call (default ARKIVE_API_KEY, else the credentials file
        ~/.config/arkive/credentials that `arkive up` and `arkive login` write).
    """

    _is_async = True

    def __init__(
        self,
        address: str | None = None,
        project: str | None = None,
        *,
        timeout: float = 120.0,
        progress: bool | None = None,
        retry_deadline: float | None = None,
        api_key: str | None = None,
    ) -> None:
        self._conn = Connection(
            address or default_address(),
            api_key if api_key is not None else credentials.api_key(),
            timeout,
            Retry.deadline_or_default(retry_deadline),
        )
        self.project = check_name(project or default_project(), "project")
        self.progress = progress
        self._features: dict[type[Feature], Feature] = {}
        # Versions are bound to the object users hold: this client, or the sync Client wrapping
        # it (referenced weakly so that the Client can still be garbage-collected and closed).
        self._owner_ref: Callable[[], Any] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address!r}, project={self.project!r})"

    # The connection's settings, readable and settable on the client as before.
    address: str = _setting("address", "host:port of the gateway.")
    api_key: str = _setting("api_key", "The API token sent with every call.")
    timeout: float = _setting("timeout", "Seconds allowed for each non-streaming call.")
    retry_deadline: float = _setting("retry_deadline", "Seconds an operation keeps retrying idempotent calls.")

    # What the core methods below and engine calls use of the connection.
    def _ch(self) -> grpc.aio.Channel:
        return self._conn.channel()

    @property
    def _artifacts(self) -> agrpc.ArtifactServiceStub:
        return agrpc.ArtifactServiceStub(self._conn.channel())

    @property
    def _blobs(self) -> BlobStub:
        return self._conn.blobs()

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        return await self._conn.call(method, request, timeout)

    async def _call_idempotent(self, method: Any, request: Any) -> Any:
        return await self._conn.call_idempotent(method, request)

    @property
    def _idempotent_timeout(self) -> float:
        return self._conn.idempotent_timeout

    def _pages(self, make: Any, method: Any) -> AsyncIterator[Any]:
        return self._conn.pages(make, method)

    async def close(self) -> None:
        """Closes the channel (a new call opens another)."""
        await self._conn.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _ref(self, ref: VersionRef) -> str:
        if isinstance(ref, ArtifactVersion):
            # The id pins the exact version even if aliases move while we work.
            return ref.version_id or ref.ref
        return str(parse_ref(ref, self.project))

    @property
    def _owner(self) -> Any:
        owner = self._owner_ref() if self._owner_ref is not None else None
        return owner if owner is not None else self

    def _version(self, v: Any, **extra: Any) -> ArtifactVersion:
        return version_from_proto(v, self._owner, **extra)

    # ---- logging ----------------------------------------------------------------------------

    async def log_artifact(
        self,
        artifact: Artifact,
        project: str | None = None,
        *,
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        label: str | None = None,
        run_id: str = "",
        ttl: Any = INHERIT,
    ) -> ArtifactVersion:
        """Logs the artifact as the next version, unless identical content is already a version.

        ttl: how long after its commit the version expires (a timedelta), None = never, or the
        default arkive.INHERIT = the project's default TTL (see set_ttl).

        run_id: the run that logs it (an output edge in the lineage graph); Run.log_artifact sets it.

        Only blobs the server lacks are uploaded. If the content is unchanged, the existing
        version is returned with created=False (requested aliases are moved onto it; tags,
        label, metadata and description only apply to new versions).
        """
        if artifact.base is not None:  # a new_draft() of a version: only the changes travel
            return await log_based(self, artifact, project, LogOptions(aliases, tags, label, run_id), ttl)
        return await log_new(self, artifact, project, LogOptions(aliases, tags, label, run_id), ttl)

    async def _reuse(self, v: Any, aliases: list[str]) -> ArtifactVersion:
        lacking = [a for a in aliases if a not in v.aliases]
        if lacking:
            ref = f"{v.project}/{v.name}:v{v.version}"
            resp = await self._call(self._artifacts.AssignAliases, apb.AssignAliasesRequest(ref=ref, aliases=lacking))
            v = resp.version
        return self._version(v, created=False)

    # ---- reading ----------------------------------------------------------------------------

    async def get_version(self, ref: VersionRef, *, as_of: datetime | float | str | None = None) -> ArtifactVersion:
        """Resolves "[project/]name[:vN|alias|label]" (or a version id) to one version; with as_of
        (a datetime, epoch seconds, or text such as "2d", "yesterday", an ISO 8601 time), to the
        version the ref named at that time (an alias that has moved since resolves as it was)."""
        request = apb.GetVersionRequest(ref=self._ref(ref))
        when = as_of_seconds(as_of)
        if when is not None:
            request.as_of.FromNanoseconds(int(when * 1e9))
        resp = await self._call(self._artifacts.GetVersion, request)
        return self._version(resp.version)

    async def use_artifact(
        self, ref: VersionRef, *, type: str | None = None, as_of: datetime | float | str | None = None
    ) -> ArtifactVersion:
        """Like get_version (the name W&B users reach for before .download()); with `type`, the
        version must be of that type (FailedPrecondition otherwise, as W&B's use_artifact checks)."""
        version = await self.get_version(ref, as_of=as_of)
        if type is not None and version.type != type:
            raise FailedPrecondition(f"{version.ref} is of type {version.type!r}, not {type!r}")
        return version

    async def versions(self, name: str) -> list[ArtifactVersion]:
        """Every version of "[project/]name", newest first."""
        if ":" in name:
            raise InvalidArgument(f"expected [project/]name without a version, got {name!r}")
        r = parse_ref(name, self.project)
        out: list[ArtifactVersion] = []
        async for page in self._pages(
            lambda tok: apb.ListVersionsRequest(project=r.project, name=r.name, page_size=PAGE_SIZE, page_token=tok),
            self._artifacts.ListVersions,
        ):
            out.extend(self._version(v) for v in page.versions)
        return out

    async def artifacts(self, project: str | None = None, type: str | None = None) -> list[ArtifactCollection]:
        """The artifact collections of a project, optionally only those of one type."""
        project = check_name(project or self.project, "project")
        type_ = check_type(type) if type else ""
        out: list[ArtifactCollection] = []
        async for page in self._pages(
            lambda tok: apb.ListArtifactsRequest(project=project, type=type_, page_size=PAGE_SIZE, page_token=tok),
            self._artifacts.ListArtifacts,
        ):
            out.extend(collection_from_proto(c, self._owner) for c in page.artifacts)
        return out

    async def files(self, ref: VersionRef, *, path_prefix: str | None = None) -> AsyncIterator[FileInfo]:
        """(path, digest, size) of every file of a version, sorted by path, fetched page by page.

        path_prefix: only the files in that folder ("a/b" matches "a/b/..." and a file "a/b").
        """
        ref_s = self._ref(ref)
        prefix = folder_prefix(path_prefix)
        async for page in self._pages(
            lambda tok: apb.ListFilesRequest(ref=ref_s, page_size=PAGE_SIZE, page_token=tok, path_prefix=prefix),
            self._artifacts.ListFiles,
        ):
            for f in page.files:
                yield reference_file(f)  # a ReferenceFile for reference entries

    async def download(
        self, ref: VersionRef, root: str | os.PathLike[str] | None = None, *, path_prefix: str | None = None
    ) -> DownloadResult:
        """Downloads a version's files (those in folder path_prefix, if given) under root.

        Default root: ./artifacts/<name>:v<N>. Files already present with the right size and
        sha256 are kept; others come from the local blob cache (verified) or the server (verified),
        and are renamed into place atomically. See also checkout(), verify(), download_zip().
        Reference entries are fetched from their source (s3/http through the gateway, resuming
        after a dropped connection; file:// from this machine) and fail with FailedPrecondition
        "source changed" if it no longer matches what was logged (unless logged with
        checksum=False). Only those that recorded a sha256 (file://) can be found in place; the
        others are fetched every time (see engine/ref_download.py).
        """
        version = ref if isinstance(ref, ArtifactVersion) else await self.get_version(ref)
        dest = Path(root) if root is not None else version.default_root()
        files = [f async for f in self.files(version, path_prefix=path_prefix)]
        refs = [f for f in files if isinstance(f, ReferenceFile)]
        if refs:  # fetched from their sources and verified there (see engine/ref_download.py)
            check_layout(f.path for f in files)
            files = [f for f in files if not isinstance(f, ReferenceFile)]
            linked, refs = await split_artifact_refs(self, refs)  # arkive:// entries are blobs
            files += linked
        with make_progress(self.progress) as progress:
            return await operations.download(self._conn, dest, files, progress, refs, version.version_id)

    # ---- the features: each method runs on the client's feature object (see _feature.py) -----------

    # one file's bytes
    find_file = delegate(Streams.find_file)
    stream_file = delegate_iter(Streams.stream_file)

    # aliases
    set_aliases = delegate(Aliases.set_aliases)
    aliases = delegate(Aliases.aliases)

    # diffs
    diff = delegate(Diffs.diff)
    diff_files = delegate_iter(Diffs.diff_files)

    # expiry
    ttl = delegate(Ttls.ttl)

    # runs, lineage and the step cache (runs.py)
    run = delegate(Lineage.run)
    get_run = delegate(Lineage.get_run)
    runs = delegate(Lineage.runs)
    lineage = delegate(Lineage.lineage)
    logged_by = delegate(Lineage.logged_by)
    used_by = delegate(Lineage.used_by)
    cache_lookup = delegate(Lineage.cache_lookup)

    # deletion, TTLs, policies and GC (retention.py)
    delete = delegate(Retention.delete)
    delete_collection = delegate(Retention.delete_collection)
    undelete = delegate(Retention.undelete)
    undelete_collection = delegate(Retention.undelete_collection)
    set_ttl = delegate(Retention.set_ttl)
    set_default_ttl = delegate(Retention.set_default_ttl)
    put_policy = delegate(Retention.put_policy)
    remove_policy = delegate(Retention.remove_policy)
    policies = delegate(Retention.policies)
    retention_plan = delegate(Retention.retention_plan)
    retention_apply = delegate(Retention.retention_apply)
    collect_garbage = delegate(Retention.collect_garbage)
    storage = delegate(Retention.storage)

    # metadata after commit, search, links (catalog.py)
    update_version = delegate(Catalog.update_version)
    set_metadata = delegate(Catalog.set_metadata)
    search = delegate(Catalog.search)
    search_iter = delegate_iter(Catalog.search_iter)
    link = delegate(Catalog.link)

    # models, datasets, plots and objects (typed.py)
    log_object = delegate(Typed.log_object)
    load = delegate(Typed.load)
    log_model = delegate(Typed.log_model)
    log_dataset = delegate(Typed.log_dataset)
    log_plot = delegate(Typed.log_plot)

    # links of registry collections (_registry.py)
    links = delegate(Registry.links)
    unlink = delegate(Registry.unlink)

    # the projects the caller may read (_projects.py)
    projects = delegate(Projects.projects)

    # checkout, verify, zips and the local cache (_checkout.py)
    checkout = delegate(Checkout.checkout)
    verify = delegate(Checkout.verify)
    download_zip = delegate(Checkout.download_zip)
    cache_info = delegate(Checkout.cache_info)
    cache_cleanup = delegate(Checkout.cache_cleanup)

    # objects already in the bucket (_references.py)
    register = delegate(Register.register)

    # many workers, one version (distributed.py)
    upsert_artifact = delegate(Distributed.upsert_artifact)
    finish_artifact = delegate(Distributed.finish_artifact)
    drafts = delegate(Distributed.drafts)
    abort_draft = delegate(Distributed.abort_draft)

    # bus consumers and dead letters (_consumers.py)
    dead_letters = delegate(Consumers.dead_letters)
    retry_dead_letter = delegate(Consumers.retry_dead_letter)
    check_consumers = delegate(Consumers.check_consumers)

    # every process's readiness and lag (_status.py)
    status = delegate(Status.status)

    # tokens, grants and audit (auth.py)
    whoami = delegate(Auth.whoami)
    create_token = delegate(Auth.create_token)
    list_tokens = delegate(Auth.list_tokens)
    revoke_token = delegate(Auth.revoke_token)
    grant = delegate(Auth.grant)
    revoke_grant = delegate(Auth.revoke_grant)
    audit = delegate(Auth.audit)

    @property
    def cache(self) -> StepCache:
        """The step cache: `await client.cache.lookup(key)` -> output versions or None."""
        return StepCache(self)

    def _feature(self, cls: type[F]) -> F:
        """The client's object of feature cls, made on first use."""
        feature = self._features.get(cls)
        if feature is None:
            feature = self._features[cls] = cls(self)
        return cast(F, feature)

    # ---- admin ------------------------------------------------------------------------------

    async def rebuild_projections(self) -> dict[str, int]:
        """Replays the event log into every read model; returns events replayed per service."""
        stub = adgrpc.AdminServiceStub(self._ch())
        # Replaying a long event log takes a while: allow far more than an ordinary call. Calling this
        # method is the confirmation the server asks for.
        resp = await self._call(
            stub.RebuildProjections, adpb.RebuildProjectionsRequest(confirm=True), timeout=max(self.timeout, 900)
        )
        return {r.service: int(r.events_replayed) for r in resp.rebuilds}

    async def blob_stats(self) -> BlobStats:
        """Cluster-wide byte counters of the blob plane (stored, physical, received); see BlobStats."""
        stub = adgrpc.AdminServiceStub(self._ch())
        return BlobStats.from_proto(await self._call_idempotent(stub.GetBlobStats, adpb.GetBlobStatsRequest()))

    async def scrub(self, *, sample: int | None = None) -> ScrubResult:
        """Has the server re-read stored blobs and verify their sha256 (all of them, or `sample`
        objects picked at random); corrupt ones leave the content index so that the next log of the
        same bytes uploads them again. Idempotent: a page is retried as a whole."""
        stub = adgrpc.AdminServiceStub(self._ch())
        return await scrub_all(lambda req: self._call_idempotent(stub.ScrubBlobs, req), sample)
