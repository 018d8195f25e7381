"""Pages: one version (metadata, files, dataset preview, metrics, plots, lineage, retention), downloads."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from arkive_core.errors import NotFound

from arkive import ArtifactVersion, AsyncClient, FileInfo
from arkive._lineage_export import LineageGraph
from arkive._ttl import VersionTtl

from .access import Access
from .context import access_of, client_of, html_page
from .html import Markup, human_size, join, link, pretty_json, render, table
from .lineage_svg import lineage_svg
from .routes_edit import edit_forms
from .security import CSRF
from .stats_view import stats_table

routes = web.RouteTableDef()
# Shown inline (plots): anything else downloads as an attachment of type octet-stream.
INLINE_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".html": "text/html",
    ".htm": "text/html",
}
# What a served file may do when opened directly: nothing outside a sandbox of its own.
FILE_CSP = "sandbox allow-scripts; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
MAX_FILES_SHOWN = 500
VERSION_NUMBER = re.compile(r"v\d+")


def version_ref(v: ArtifactVersion) -> str:
    return f"{v.project}/{v.name}:v{v.version}"


def file_url(v: ArtifactVersion, path: str, inline: bool = False) -> str:
    return link("/files", v.version_id, *path.split("/")) + ("?inline=1" if inline else "")


def _preview(meta: dict[str, Any]) -> Markup:
    preview, stats = meta.get("preview"), (meta.get("stats") or {}).get("columns")
    parts = []
    if isinstance(preview, dict) and isinstance(preview.get("rows"), list):
        cols = [str(c) for c in preview.get("columns", [])]
        parts.append(
            render("<h2>Preview</h2>{t}", t=table(cols, [r if isinstance(r, list) else [r] for r in preview["rows"]]))
        )
    elif isinstance(preview, list) and preview and isinstance(preview[0], dict):
        cols = list(preview[0])
        parts.append(render("<h2>Preview</h2>{t}", t=table(cols, [[row.get(c) for c in cols] for row in preview])))
    if isinstance(stats, dict) and stats:
        parts.append(render("<h2>Column statistics</h2>{t}", t=stats_table(stats)))
    return join(parts)


def _metrics(meta: dict[str, Any]) -> Markup:
    metrics = meta.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return Markup()
    return render("<h2>Metrics</h2>{t}", t=table(("metric", "value"), sorted(metrics.items())))


def _plots(v: ArtifactVersion, paths: list[str]) -> Markup:
    title = v.metadata.get("title")
    out = [render("<p><b>{t}</b></p>", t=title)] if isinstance(title, str) and title else []
    for p in paths:
        kind = INLINE_TYPES.get(_ext(p), "")
        if kind.startswith("image/"):
            out.append(
                render(
                    "<figure><img class='plot' src='{u}' alt='{p}'><figcaption>{p}</figcaption></figure>",
                    u=file_url(v, p, True),
                    p=p,
                )
            )
        elif kind == "text/html":
            out.append(
                render(
                    "<figure><iframe class='plot' sandbox='allow-scripts' src='{u}' title='{p}'></iframe>"
                    "<figcaption>{p}</figcaption></figure>",
                    u=file_url(v, p, True),
                    p=p,
                )
            )
    return render("<h2>Plots</h2>{p}", p=join(out)) if out else Markup()


def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


@routes.get("/v/{project}/{name}/{selector}", name="version")
async def version(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    client = await client_of(request)
    ref, depth = f"{m['project']}/{m['name']}:{m['selector']}", _depth(request)
    # A version number names one version for good, so every read goes at once (one round trip, not
    # two); an alias or label is resolved first, so that all reads see the same version.
    if VERSION_NUMBER.fullmatch(m["selector"]):
        v, (access, files, graph, ttl) = await asyncio.gather(
            client.get_version(ref), _reads(request, client, ref, depth)
        )
    else:
        v = await client.get_version(ref)
        access, files, graph, ttl = await _reads(request, client, v, depth)
    file_rows = [(render("<a href='{u}'>{p}</a>", u=file_url(v, f.path), p=f.path), human_size(f.size)) for f in files]
    more = (
        render("<p class='muted'>first {n} of {t} files</p>", n=len(files), t=v.file_count)
        if v.file_count > len(files)
        else ""
    )
    facts = table(
        ("type", "aliases", "tags", "label", "size", "files", "created", "id"),
        [
            (
                v.type,
                join(render("<span class='chip'>{a}</span>", a=a) for a in v.aliases),
                ", ".join(v.tags),
                v.label,
                human_size(v.total_size),
                v.file_count,
                v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                v.version_id,
            )
        ],
    )
    controls = edit_forms(v, request[CSRF], writer=access.can_write(v.project), admin=access.can_admin(v.project))
    retention = _retention(v, ttl)
    body = render(
        "<p><a href='{pu}'>{p}</a> / <a href='{cu}'>{n}</a> /</p><h1>{ref}</h1>{facts}{retention}"
        "<h2>Description</h2><p>{d}</p>{metrics}{preview}{plots}"
        "<h2>Metadata</h2><pre>{meta}</pre><h2>Files</h2>{files}{more}"
        "<h2>Lineage</h2><p class='muted'>depth {depth}{trunc}</p>{svg}{controls}",
        pu=link("/p", v.project),
        p=v.project,
        cu=link("/p", v.project, v.name),
        n=v.name,
        ref=version_ref(v),
        facts=facts,
        retention=retention,
        controls=controls,
        d=v.description or "—",
        metrics=_metrics(v.metadata),
        preview=_preview(v.metadata),
        plots=_plots(v, [f.path for f in files]),
        meta=pretty_json(v.metadata),
        files=table(("path", "size"), file_rows),
        more=more,
        depth=depth,
        trunc=" (truncated)" if graph.truncated else "",
        svg=lineage_svg(graph),
    )
    return html_page(request, version_ref(v), body)


async def _reads(
    request: web.Request, client: AsyncClient, target: str | ArtifactVersion, depth: int
) -> tuple[Access, list[FileInfo], LineageGraph, VersionTtl | None]:
    return await asyncio.gather(
        access_of(request),
        _first_files(client, target),
        client.lineage(target, direction="both", depth=depth),
        _ttl(client, target),
    )


async def _first_files(client: AsyncClient, v: str | ArtifactVersion) -> list[FileInfo]:
    files: list[FileInfo] = []
    async for f in client.files(v):
        files.append(f)
        if len(files) >= MAX_FILES_SHOWN:
            break
    return files


async def _ttl(client: AsyncClient, v: str | ArtifactVersion) -> VersionTtl | None:
    """None while the retention service has not yet seen a version committed a moment ago."""
    try:
        return await client.ttl(v)
    except NotFound:
        return None


def _retention(v: ArtifactVersion, ttl: VersionTtl | None) -> Markup:
    """TTL in force (and where it comes from), when it expires, and whether an alias protects it
    (retention never deletes a version holding an alias other than latest)."""
    held = [a for a in v.aliases if a != "latest"]
    if ttl is None:
        expiry = "TTL not known yet (the retention service has not seen this version)"
    elif ttl.ttl is None:
        expiry = "never expires (no TTL)"
    else:
        when = ttl.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") if ttl.expires_at else "?"
        expiry = f"TTL {_duration(ttl.ttl.total_seconds())} ({ttl.source}): expires {when}"
    guard = f"protected by alias {', '.join(held)}: retention keeps it" if held else "not protected by an alias"
    return render("<p class='retention'><b>Retention:</b> <span class='ttl'>{e}</span> · {g}</p>", e=expiry, g=guard)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _depth(request: web.Request) -> int:
    try:
        return min(max(int(request.query.get("depth", "3")), 1), 10)
    except ValueError:
        return 3


@routes.get("/files/{version_id}/{path:.+}", name="file")
async def download(request: web.Request) -> web.StreamResponse:
    """Streams one file through the SDK (verified on the way); plots inline with their own sandbox."""
    version_id, path = request.match_info["version_id"], request.match_info["path"]
    client = await client_of(request)
    info = await client.find_file(version_id, path)
    kind = INLINE_TYPES.get(_ext(path)) if request.query.get("inline") else None
    response = web.StreamResponse(
        headers={
            "Content-Type": kind or "application/octet-stream",
            "Content-Length": str(info.size),
            "Content-Disposition": "inline"
            if kind
            else f"attachment; filename*=UTF-8''{link('', path.rsplit('/', 1)[-1])[1:]}",
            "Content-Security-Policy": FILE_CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, max-age=3600",
        }
    )
    chunks = client.stream_file(version_id, path)
    first = await anext(chunks, b"")  # errors before the first byte still become an error page
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:  # a mismatch later aborts the connection (the body stays short)
        await response.write(chunk)
    await response.write_eof()
    return response
