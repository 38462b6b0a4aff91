#!/usr/bin/env bash
# Builds the envlogger development image from docker/Dockerfile and prints its
# tag. Uses docker when a Docker engine answers, else podman (preparing the
# host with docker/prepare_host.sh first if the base image is missing).
#
#   docker/build.sh [extra build flags, e.g. --no-cache]
#
# Environment: BAZEL_SOURCE (release|debian; default: release when reachable),
# DEBIAN_MIRROR, PIP_INDEX_URL (passed as build arguments), CA_BUNDLE_HOST (a
# CA bundle on the host for HTTPS inside the build; podman only; default: the
# system bundle), ENVLOGGER_ENGINE (docker|podman).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"

args=(
  --file "$DOCKER_DIR/Dockerfile"
  --tag "$IMAGE"
  --build-arg "BAZEL_SOURCE=$BAZEL_SOURCE"
  --build-arg "DEBIAN_MIRROR=${DEBIAN_MIRROR:-}"
  --build-arg "PIP_INDEX_URL=${PIP_INDEX_URL:-}"
)
if [[ "$ENGINE" == podman ]]; then
  if ! podman image exists docker.io/library/debian:bookworm; then
    "$DOCKER_DIR/prepare_host.sh" >&2
  fi
  # Where HTTPS is re-signed by a local CA, curl and pip inside the build need
  # the host's bundle. Chroot isolation needs no cgroup or namespace setup.
  ca="${CA_BUNDLE_HOST:-/etc/ssl/certs/ca-certificates.crt}"
  if [[ -f "$ca" ]]; then
    args+=(--volume "$ca:/run/host-ca.crt:ro" --build-arg CA_BUNDLE=/run/host-ca.crt)
  fi
  args+=(--isolation "${PODMAN_ISOLATION:-chroot}")
fi

echo "Building $IMAGE with $ENGINE (BAZEL_SOURCE=$BAZEL_SOURCE)" >&2
"$ENGINE" build "${args[@]}" "$@" "$ROOT" >&2
echo "$IMAGE"
