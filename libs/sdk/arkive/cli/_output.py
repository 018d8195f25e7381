"""What the CLI prints: one JSON document with --json, readable text and tables otherwise."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not at run time: JSON output and --help never load the SDK's version types
    from arkive import ArtifactCollection, ArtifactVersion, DownloadResult, Draft, FileInfo, UpsertResult


def console() -> Any:
    # Imported lazily: rich costs ~100 ms and JSON mode never needs it.
    from rich.console import Console

    return Console(soft_wrap=True, highlight=False)


def size(n: int) -> str:
    from rich.filesize import decimal

    return decimal(n)


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _when(v: ArtifactVersion) -> str:
    return v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _words(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items) if items else "-"


def log_result(v: ArtifactVersion) -> None:
    out = console()
    if not v.created:
        tail = (
            "nothing uploaded"
            if v.bytes_uploaded == 0 and v.files_uploaded == 0
            else f"uploaded {v.files_uploaded} files ({size(v.bytes_uploaded)}) that it already referenced"
        )
        out.print(f"unchanged: {v.ref} already has this content; {tail}", markup=False)
    else:
        out.print(
            f"logged {v.ref}: {v.file_count} files, {size(v.total_size)}; "
            f"uploaded {v.files_uploaded} files ({size(v.bytes_uploaded)})",
            markup=False,
        )
    if v.aliases:
        out.print(f"aliases: {_words(v.aliases)}", markup=False)


def upsert_result(r: UpsertResult) -> None:
    console().print(
        f"upserted {r.files_upserted} files into {r.project}/{r.name} (distributed id {r.distributed_id}, "
        f"draft {r.draft_id}): {r.file_count} files in the draft so far; "
        f"uploaded {r.files_uploaded} files ({size(r.bytes_uploaded)})",
        markup=False,
    )


def finish_result(v: ArtifactVersion, distributed_id: str) -> None:
    out = console()
    if v.created:
        out.print(
            f"finished {v.ref} (distributed id {distributed_id}): {v.file_count} files, {size(v.total_size)}",
            markup=False,
        )
    else:
        out.print(f"already finished: distributed id {distributed_id} is {v.ref}; nothing changed", markup=False)
    if v.aliases:
        out.print(f"aliases: {_words(v.aliases)}", markup=False)


def drafts_table(project: str, idle_seconds: int, drafts: list[Draft]) -> None:
    from rich.table import Table

    out = console()
    idle = f" idle for at least {idle_seconds} s" if idle_seconds else ""
    if not drafts:
        out.print(f"no open drafts{idle} in project {project}", markup=False)
        return
    table = Table(title=f"open drafts{idle} in project {project}")
    table.add_column("draft id", no_wrap=True)
    table.add_column("name")
    table.add_column("type")
    table.add_column("distributed id")
    table.add_column("files", justify="right")
    table.add_column("updated")
    for d in drafts:
        table.add_row(
            d.draft_id,
            d.name,
            d.type,
            d.distributed_id or "-",
            str(d.file_count),
            d.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    out.print(table)


def _ttl_text(ttl: Any) -> str:
    if ttl is None:
        return "unknown (retention service unreachable)"
    if ttl.ttl is None:
        return "never expires" + (f" ({ttl.source})" if ttl.source != "none" else "")
    from ._sdk import format_duration

    when = ttl.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{format_duration(ttl.ttl.total_seconds())} ({ttl.source}), expires {when}"


def version_details(v: ArtifactVersion, files: list[FileInfo] | None = None, ttl: Any = "") -> None:
    """ttl: a VersionTtl, None when it could not be fetched, "" to leave the line out."""
    # Plain "key  value" lines rather than a table: digests stay whole and grep-able at any width.
    rows = [
        ("ref", v.ref),
        ("version id", v.version_id),
        ("type", v.type),
        ("files", f"{v.file_count} ({size(v.total_size)})"),
        ("manifest", v.manifest_digest),
        ("aliases", _words(v.aliases)),
        ("tags", _words(v.tags)),
        ("label", v.label or "-"),
        ("description", v.description or "-"),
        ("metadata", json.dumps(v.metadata, ensure_ascii=False) if v.metadata else "-"),
        ("created", _when(v)),
    ]
    if ttl != "":
        rows.append(("ttl", _ttl_text(ttl)))
    lines = [f"{key:<12} {value}" for key, value in rows]
    if files is not None:
        width = max((len(size(f.size)) for f in files), default=0)
        lines.append("")
        lines.extend(f"{f.digest[7:19]}  {size(f.size):>{width}}  {f.path}" for f in files)
    sys.stdout.write("\n".join(lines) + "\n")


def versions_table(project: str, name: str, versions: list[ArtifactVersion]) -> None:
    from rich.table import Table

    out = console()
    if not versions:
        out.print(f"{project}/{name} has no versions", markup=False)
        return
    table = Table(title=f"{project}/{name}")
    links = any(v.linked_from for v in versions)  # a registry collection: its links, with their sources
    for col in ("version", *(("linked from",) if links else ()), "aliases", "tags", "label"):
        table.add_column(col, justify="left", overflow="fold")
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    table.add_column("created" if not links else "linked")
    for v in versions:
        table.add_row(
            v.version_name,
            *((v.linked_from,) if links else ()),
            _words(v.aliases),
            _words(v.tags),
            v.label or "-",
            str(v.file_count),
            size(v.total_size),
            _when(v),
        )
    out.print(table)


def collections_table(project: str, cols: list[ArtifactCollection]) -> None:
    from rich.table import Table

    out = console()
    if not cols:
        out.print(f"no artifacts in project {project}", markup=False)
        return
    table = Table(title=f"project {project}")
    table.add_column("name")
    table.add_column("type")
    table.add_column("versions", justify="right")
    table.add_column("latest")
    table.add_column("size", justify="right")
    table.add_column("updated")
    for c in cols:
        latest = c.latest
        table.add_row(
            c.name,
            c.type,
            str(c.version_count),
            latest.version_name if latest else "-",
            size(latest.total_size) if latest else "-",
            _when(latest) if latest else "-",
        )
    out.print(table)


def download_result(v: ArtifactVersion, r: DownloadResult) -> None:
    console().print(
        f"downloaded {v.ref} to {r.path}: {r.files_written} files written ({size(r.bytes_written)}), "
        f"{r.files_skipped} already up to date",
        markup=False,
    )


def rebuilds_table(rebuilds: dict[str, int]) -> None:
    from rich.table import Table

    table = Table(title="projections rebuilt")
    table.add_column("service")
    table.add_column("events replayed", justify="right")
    for service, n in rebuilds.items():
        table.add_row(service, str(n))
    table.add_row("total", str(sum(rebuilds.values())), style="bold")
    console().print(table)


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")
