"""`arkive log --base REF [PATH...] [--remove P...]`: log the next version as changes to a base.

Every file of the base is kept unless removed; each PATH is added on top like a plain `log` adds it
(a folder's contents at the root, a file under its base name), replacing base files at the same
paths. Only the added files are hashed and (if the server lacks them) uploaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arkive_common.refs import parse_ref

from . import _cli_output as show
from ._cli_parser import UsageError, usage_errors
from ._cli_refs import add_references


def cmd_log_based(
    args: argparse.Namespace,
    client_of: Callable[[argparse.Namespace], Any],
    version_options: Callable[[argparse.Namespace], dict[str, Any]],
    warn_skipped: Callable[[Any], None],
) -> int:
    from ._rpc import default_project

    if not args.base:
        raise UsageError("--remove needs --base (the version to remove files from)")
    if not args.path and not args.remove and not args.reference:
        raise UsageError("log --base needs a path to add, a --reference or a --remove")
    with usage_errors():
        ref = parse_ref(args.base, args.project or default_project())
        if args.name and ref.name and args.name != ref.name:
            raise UsageError(f"--name {args.name!r} differs from the base's artifact {ref.name!r}; omit --name")
        metadata = version_options(args)
    with client_of(args) as client:
        base = client.use_artifact(str(ref))
        draft = base.new_draft()
        if args.name and args.name != draft.name:
            raise UsageError(f"--name {args.name!r} differs from the base's artifact {draft.name!r}; omit --name")
        with usage_errors():
            draft.metadata.update(metadata)  # keys given replace the base's; the others are kept
            draft.metadata_json()
            if args.description:
                draft.description = args.description
            for p in args.remove:
                draft.remove(p)
        from .engine.paths import placement

        for p in args.path:
            draft.add(Path(p), placement(Path(p), args.as_prefix))
        add_references(draft, args)
        warn_skipped(draft)
        v = client.log_artifact(draft, aliases=args.alias, tags=args.tag, label=args.label)
    if getattr(args, "json", False):
        doc = v.to_dict()
        doc.update(created=v.created, files_uploaded=v.files_uploaded, bytes_uploaded=v.bytes_uploaded, base=base.ref)
        show.emit_json(doc)
    else:
        show.log_result(v)
        if not v.created and (args.tag or args.label or args.metadata or args.description):
            show.warn("tags, label, metadata and description only apply to new versions; left unchanged")
    return 0
