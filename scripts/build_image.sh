#!/usr/bin/env bash
# Builds the arkive OCI image from deploy/Containerfile without a Docker daemon (buildah), as root.
#
#   scripts/build_image.sh            # -> localhost/arkive:dev (prints the name on stdout)
#
# Environment:
#   ARKIVE_IMAGE        image name (default localhost/arkive:dev)
#   ARKIVE_BASE_IMAGE   base image; default: a Debian bookworm root filesystem made here with
#                       debootstrap and imported as localhost/arkive-base:bookworm, because this
#                       machine reaches no container registry. With registry access pass e.g.
#                       python:3.11-slim-bookworm (the Containerfile's own default).
#   ARKIVE_IMAGE_CACHE  cache folder (default .cache/image): the base root filesystem as a tarball
#   PY                  the Python whose pip builds the wheels (default .venv/bin/python)
#
# What happens: the Debian tools (buildah podman runc skopeo debootstrap) are installed when missing;
# the Containerfile is linted with hadolint; the workspace packages are built as wheels on the host
# and their runtime dependencies (pinned by requirements.lock) downloaded as wheels into a context
# folder, since the build runs with --network none; buildah builds with runc (crun fails on this
# kind of host: "cgroups in hybrid mode not supported") and explicit ulimits (the defaults EPERM).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
IMAGE=${ARKIVE_IMAGE:-localhost/arkive:dev}
CACHE=${ARKIVE_IMAGE_CACHE:-.cache/image}
LOCAL_BASE=localhost/arkive-base:bookworm
BASE=${ARKIVE_BASE_IMAGE:-$LOCAL_BASE}
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
PACKAGES=(libs/core libs/common libs/proto libs/sdk services/gateway services/ingest services/hashing services/lineage
  services/retention services/web)
say() { echo "build_image [${SECONDS}s]: $*" >&2; }

if [[ $(id -u) != 0 ]]; then
  say "needs root (buildah and podman run rootful here)"
  exit 3
fi
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
  say "the wheels are built for the image's Python 3.11: run with a Python 3.11 (PY=...)"
  exit 2
}

missing=()
for tool in buildah podman runc debootstrap skopeo; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  say "installing ${missing[*]} (apt-get)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman runc skopeo debootstrap >&2
fi

say "hadolint deploy/Containerfile"
"$(dirname "$PY")/hadolint" deploy/Containerfile >&2

mkdir -p "$CACHE"
if [[ $BASE == "$LOCAL_BASE" ]] && ! podman image exists "$LOCAL_BASE"; then
  rootfs_tar="$CACHE/rootfs-bookworm.tar"
  if [[ ! -s $rootfs_tar ]]; then
    say "debootstrap bookworm (minbase + python3, once; cached in $rootfs_tar)"
    root=$(mktemp -d)
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" >&2
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$root"
  fi
  say "importing $rootfs_tar as $LOCAL_BASE"
  podman import "$rootfs_tar" "$LOCAL_BASE" >&2
fi

context="$CACHE/context"
rm -rf "$context"
mkdir -p "$context/arkive"
pip=("$PY" -m pip --disable-pip-version-check --quiet)
say "wheels of the workspace packages"
# With the venv's setuptools (pinned in requirements.lock; bdist_wheel built in since 70.1) instead
# of an isolated build environment per package: 3x faster here.
isolation=(--no-build-isolation)
"$PY" -c 'import setuptools as s, sys; sys.exit(tuple(map(int, s.__version__.split(".")[:2])) < (70, 1))' 2>/dev/null ||
  isolation=()
# setuptools' build/ folders are removed before and after: a stale build/lib would put modules
# deleted from the source tree into the wheels.
clean_build() { for p in "${PACKAGES[@]}"; do rm -rf "$p/build"; done; }
clean_build
"${pip[@]}" wheel --no-deps "${isolation[@]}" -w "$context/arkive" "${PACKAGES[@]}" >&2
clean_build
# Their runtime dependencies only (not the test and dev tools of requirements.lock), pinned by the
# lock; kept per lock and package list, so a rebuild downloads nothing and buildah reuses the layer.
key=$(cat requirements.lock "${PACKAGES[@]/%//pyproject.toml}" | sha256sum | cut -c1-16)
deps="$CACHE/deps-$key"
if [[ ! -f $deps/.complete ]]; then
  say "downloading the runtime dependencies into $deps"
  rm -rf "$deps" && mkdir -p "$deps"
  "${pip[@]}" download --only-binary=:all: -c requirements.lock -d "$deps" "$context"/arkive/*.whl >&2
  rm -f "$deps"/arkive_*.whl "$deps"/arkive-[0-9]*.whl  # the workspace wheels (the SDK is "arkive")
  touch "$deps/.complete"
fi
cp -a "$deps" "$context/deps" && rm -f "$context/deps/.complete"
install -m 0755 deploy/arkive-entrypoint.sh "$context/arkive-entrypoint.sh"

say "buildah bud $IMAGE (base $BASE)"
buildah bud --runtime runc --network none "${ULIMITS[@]}" --layers \
  --build-arg "BASE_IMAGE=$BASE" -f deploy/Containerfile -t "$IMAGE" "$context" >&2
echo "$IMAGE"
