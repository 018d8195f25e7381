"""`arkive diff REF_A REF_B [--json]`: files added, removed and changed, and the metadata difference."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from . import _output as show
from ._checks import check_ref
from ._options import Args, handler, project_option, shared_options
from ._sdk import client as client_for


def _value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


@click.command(
    "diff",
    help="Files added in REF_B, removed from REF_A and changed (other digest), with sizes, and the "
    "metadata keys (dotted paths) added, removed and changed, with old and new values. The files are "
    "compared on the server; only the differences travel.",
    short_help="what changed between two versions: files (by digest) and metadata keys",
)
@click.argument("ref_a", metavar="REF_A")
@click.argument("ref_b", metavar="REF_B")
@project_option()
@shared_options
@handler
def diff(args: Args) -> int:
    check_ref(args.ref_a, args.project)
    check_ref(args.ref_b, args.project)
    with client_for(args) as client:
        d = client.diff(args.ref_a, args.ref_b)
    if args.json:
        show.emit_json(d.to_dict())
        return 0
    out = sys.stdout
    out.write(f"{d.a.ref} -> {d.b.ref}\n")
    for f in d.files:
        before = show.size(f.before.size) if f.before else ""
        after = show.size(f.after.size) if f.after else ""
        if f.kind == "added":
            out.write(f"+ {f.path}  ({after})\n")
        elif f.kind == "removed":
            out.write(f"- {f.path}  ({before})\n")
        else:
            out.write(f"~ {f.path}  ({before} -> {after})\n")
    for key, value in d.metadata.added.items():
        out.write(f"+ metadata {key} = {_value(value)}\n")
    for key, value in d.metadata.removed.items():
        out.write(f"- metadata {key} = {_value(value)}\n")
    for key, (old, new) in d.metadata.changed.items():
        out.write(f"~ metadata {key}: {_value(old)} -> {_value(new)}\n")
    m = d.metadata
    out.write(
        f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed files; "
        f"{len(m.added)} added, {len(m.removed)} removed, {len(m.changed)} changed metadata keys\n"
    )
    return 0
