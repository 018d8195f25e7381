#!/usr/bin/env bash
# Regenerates libs/proto/arkive_proto/v1 from proto/arkive/v1. Never edit the output by hand.
# protoc names imports after the proto path ("arkive.v1"); the package is arkive_proto.v1 so that
# it does not collide with the SDK's "arkive" package, hence the import rewrite below.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$PY" -m grpc_tools.protoc -I proto --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" proto/arkive/v1/*.proto
dest=libs/proto/arkive_proto/v1
rm -rf "$dest" && mkdir -p "$dest"
for f in "$out"/arkive/v1/*; do
  sed -e 's/^from arkive\.v1 import/from arkive_proto.v1 import/' "$f" > "$dest/$(basename "$f")"
done
printf '"""Generated from proto/arkive/v1 by scripts/gen_proto.sh; do not edit."""\n' > "$dest/__init__.py"
