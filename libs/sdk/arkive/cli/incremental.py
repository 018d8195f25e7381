"""`arkive log --base REF [PATH...] [--remove P...]`: log the next version as changes to a base.

Every file of the base is kept unless removed; each PATH is added on top like a plain `log` adds it
(a folder's contents at the root, a file under its base name), replacing base files at the same
paths. Only the added files are hashed and (if the server lacks them) uploaded.
"""

from __future__ import annotations

from pathlib import Path

from ._checks import print_logged, version_options, warn_skipped
from ._options import Args, UsageError, usage_errors
from ._sdk import client as client_for
from ._sdk import default_project, placement
from .refs import add_references


def log_based(args: Args) -> int:
    from arkive_core.refs import parse_ref

    if not args.base:
        raise UsageError("--remove needs --base (the version to remove files from)")
    if not args.path and not args.remove and not args.reference:
        raise UsageError("log --base needs a path to add, a --reference or a --remove")
    with usage_errors():
        ref = parse_ref(args.base, args.project or default_project())
        if args.name and ref.name and args.name != ref.name:
            raise UsageError(f"--name {args.name!r} differs from the base's artifact {ref.name!r}; omit --name")
        metadata = version_options(args)
    with client_for(args) as client:
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
        for p in args.path:
            draft.add(Path(p), placement(Path(p), args.as_prefix))
        add_references(draft, args)
        warn_skipped(draft)
        v = client.log_artifact(draft, aliases=args.alias, tags=args.tag, label=args.label)
    print_logged(args, v, base=base.ref)
    return 0
