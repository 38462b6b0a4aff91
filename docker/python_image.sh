#!/usr/bin/env bash
# Builds, if it does not exist yet, the Python-only image of
# docker/Dockerfile.python on the same base image as the development image
# (debian:bookworm, made once by docker/prepare_host.sh where no registry is
# reachable), and prints its tag: envlogger-python:<hash of its inputs>.
# Environment: ENVLOGGER_ENGINE, DEBIAN_MIRROR (see docker/build.sh).
set -euo pipefail
BAZEL_SOURCE="${BAZEL_SOURCE:-none}"  # engine.sh: the Bazel probe is for the development image
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"
PY_IMAGE="envlogger-python:$(cat "$DOCKER_DIR/Dockerfile.python" <(echo "${DEBIAN_MIRROR:-}") \
  | sha256sum | cut -c1-12)"
if ! "$ENGINE" image inspect "$PY_IMAGE" >/dev/null 2>&1; then
  args=(--file "$DOCKER_DIR/Dockerfile.python" --tag "$PY_IMAGE"
    --build-arg "DEBIAN_MIRROR=${DEBIAN_MIRROR:-}")
  if [[ "$ENGINE" == podman ]]; then
    if ! podman image exists docker.io/library/debian:bookworm; then
      "$DOCKER_DIR/prepare_host.sh" >&2
    fi
    args+=(--isolation "${PODMAN_ISOLATION:-chroot}")
  fi
  echo "Building $PY_IMAGE with $ENGINE" >&2
  "$ENGINE" build "${args[@]}" "$DOCKER_DIR" >&2
fi
echo "$PY_IMAGE"
