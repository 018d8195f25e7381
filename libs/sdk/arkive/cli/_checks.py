"""Checks and steps several commands share: a REF, the options of a new version, the PATHs of an
artifact, the entries a walk skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _output as show
from ._options import Args, UsageError, usage_errors
from ._sdk import default_project, placement


def check_ref(ref: str, project: str | None) -> None:
    """A REF the server would refuse is a usage error, caught before anything is sent."""
    from arkive_core.refs import parse_ref

    with usage_errors():
        parse_ref(ref, project or default_project())


def version_options(args: Args) -> dict[str, Any]:
    """Checks --alias, --tag, --label, --description; returns the parsed --metadata (call inside usage_errors)."""
    from arkive_core.validation import check_alias, check_description, check_label, check_tag, parse_metadata

    for a in args.alias:
        check_alias(a)
    for t in args.tag:
        check_tag(t)
    if args.label:
        check_label(args.label)
    check_description(args.description)
    return parse_metadata(args.metadata)


def warn_skipped(art: Any) -> None:
    if art.skipped:
        shown = ", ".join(f"{p} ({why})" for p, why in art.skipped[:3])
        more = f" and {len(art.skipped) - 3} more" if len(art.skipped) > 3 else ""
        n = len(art.skipped)
        show.warn(f"skipped {n} {'entry' if n == 1 else 'entries'}: {shown}{more}")


def add_paths(art: Any, paths: list[str], prefix: str | None) -> None:
    """Adds each PATH (a folder's files, or a file by its name) at the artifact's root or under
    --as; two PATHs that would put files at the same artifact path are a usage error, not a
    silent overwrite."""
    for p in paths:
        before = len(art.paths)
        added = art.add(Path(p), placement(Path(p), prefix))  # a missing path: NOT_FOUND, exit 1
        if len(art.paths) - before != added:
            raise UsageError(
                f"{p}: {added - (len(art.paths) - before)} of its files land on artifact paths an earlier "
                "PATH already gave; log them separately or place them with --as"
            )


def print_logged(args: Args, v: Any, **extra: Any) -> None:
    """A logged version: JSON with what was uploaded (and `extra`), or a line; warns when the options that
    only apply to a new version were ignored."""
    if args.json:
        doc = v.to_dict()
        doc.update(created=v.created, files_uploaded=v.files_uploaded, bytes_uploaded=v.bytes_uploaded, **extra)
        show.emit_json(doc)
        return
    show.log_result(v)
    if not v.created and (args.tag or args.label or args.metadata or args.description):
        show.warn("tags, label, metadata and description only apply to new versions; left unchanged")
