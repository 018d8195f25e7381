"""`arkive diff REF_A REF_B [--json]`: files added, removed and changed, and the metadata difference."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import _cli_output as show


def add_parsers(sub: Any, common: argparse.ArgumentParser, proj: argparse.ArgumentParser, parser_class: type) -> None:
    d = sub.add_parser(
        "diff",
        parents=[common, proj],
        help="what changed between two versions: files (by digest) and metadata keys",
        description="Files added in REF_B, removed from REF_A and changed (other digest), with sizes, and the "
        "metadata keys (dotted paths) added, removed and changed, with old and new values. The files are "
        "compared on the server; only the differences travel.",
    )
    d.add_argument("ref_a", metavar="REF_A")
    d.add_argument("ref_b", metavar="REF_B")


def _value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def cmd_diff(args: argparse.Namespace) -> int:
    from .cli import _check_ref, _client

    _check_ref(args.ref_a, args.project)
    _check_ref(args.ref_b, args.project)
    with _client(args) as client:
        d = client.diff(args.ref_a, args.ref_b)
    if getattr(args, "json", False):
        show.emit_json(d.to_dict())
        return 0
    out = sys.stdout
    out.write(f"{d.a.ref} -> {d.b.ref}\n")
    for f in d.files:
        if f.kind == "added":
            out.write(f"+ {f.path}  ({show._size(f.after.size)})\n")
        elif f.kind == "removed":
            out.write(f"- {f.path}  ({show._size(f.before.size)})\n")
        else:
            sizes = f"{show._size(f.before.size)} -> {show._size(f.after.size)}"
            out.write(f"~ {f.path}  ({sizes})\n")
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


COMMANDS = {"diff": cmd_diff}
