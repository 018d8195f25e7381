"""arkive:// references: an entry that names a file (or every file of a folder) of another version,
W&B's bundle pattern ("arkive://demo/raw:v3/images/cat.png"). Resolved here, at log time, to one
exact version (an alias is pinned to the version it names now): each entry records the source's
pinned URI ("arkive://demo/raw:v3/..."), its version id, and the file's sha256 and size, so a
download reads the blob by digest and verifies it. The caller must be allowed to read the source."""

from __future__ import annotations

from arkive_core.errors import InvalidArgument, NotFound, PermissionDenied
from arkive_core.refs import parse_ref
from arkive_core.tokens import Role
from arkive_core.validation import normalize_path

from arkive_common import api
from arkive_common import api_refs as ar
from arkive_common.contracts import INGEST
from arkive_common.rpc import RpcClient

from .auth_check import allowed
from .auth_interceptor import CURRENT
from .ref_sources import entry_path

SCHEME = "arkive://"
DEFAULT_MAX = 10_000
PAGE = 5000


def split_uri(uri: str) -> tuple[str, str]:
    """ "arkive://proj/name:v3/a/b.txt" -> ("proj/name:v3", "a/b.txt"); the version part is required."""
    body = uri[len(SCHEME) :]
    project_name, colon, rest = body.partition(":")
    if not colon or "/" not in project_name:
        raise InvalidArgument(
            f"invalid artifact reference {uri!r}: expected arkive://project/name:VERSION_OR_ALIAS[/path]"
        )
    selector, _, path = rest.partition("/")
    ref = parse_ref(f"{project_name}:{selector}")
    if ref.version_id or not selector:
        raise InvalidArgument(f"invalid artifact reference {uri!r}: name a version (:v3) or an alias (:production)")
    return f"{ref.project}/{ref.name}:{selector}", path


def _check_read(project: str) -> None:
    record = CURRENT.get()
    if record is not None and not allowed(record, project, Role.READER):
        raise PermissionDenied(f"{record.principal_id} needs the reader role on project {project} to reference it")


async def resolve(rpc: RpcClient, uri: str, name: str, max_objects: int) -> list[ar.RefEntry]:
    ref, path = split_uri(uri)
    _check_read(ref.split("/", 1)[0])
    version = await rpc.call(INGEST.get_version, api.GetVersion(ref))
    prefix = normalize_path(path) if path else ""
    pinned = f"{SCHEME}{version.project}/{version.name}:v{version.version}"
    limit = max_objects or DEFAULT_MAX
    entries: list[ar.RefEntry] = []
    token = ""
    while True:
        page = await rpc.call(INGEST.list_files, api.ListFiles(version.version_id, PAGE, token, prefix))
        nested = {r[0]: r for r in page.references}  # entries that are references themselves
        for file_path, digest, size in page.files:
            if file_path == prefix:  # the path names one file
                at = entry_path(name, file_path.rsplit("/", 1)[-1])
            else:
                rel = file_path[len(prefix) + 1 :] if prefix else file_path
                at = entry_path(f"{name.rstrip('/')}/{rel}" if name else "", rel)
            inner = nested.get(file_path)
            if inner is not None:  # a reference of the source: the same source, as it was recorded
                entries.append(ar.RefEntry(at, inner[1], inner[2], inner[3], inner[4], digest, size))
            else:
                entries.append(ar.RefEntry(at, f"{pinned}/{file_path}", "", version.version_id, True, digest, size))
            if len(entries) > limit:
                raise InvalidArgument(f"{uri} holds more than {limit} files (raise max_objects)")
        token = page.next_page_token
        if not token:
            break
    if not entries:
        raise NotFound(f"{version.project}/{version.name}:v{version.version} has no file or folder {prefix!r}")
    return entries
