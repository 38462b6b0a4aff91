# Sourced by docker/build.sh and docker/run_tests.sh: picks the container
# engine and the image tag.
#
#   ENGINE       docker when a Docker engine answers, else podman (rootful,
#                configured by docker/containers.conf, base image prepared by
#                docker/prepare_host.sh)
#   IMAGE        envlogger-dev:<hash>, the hash covering everything the image
#                is built from, so an image is rebuilt exactly when needed
#   BAZEL_SOURCE release or debian (see docker/Dockerfile); when unset, release
#                if the Bazel release site answers, else debian
# Honours $ENVLOGGER_ENGINE (docker|podman) and $BAZEL_SOURCE.

DOCKER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$DOCKER_DIR/.." && pwd)"
BAZEL_RELEASE_URL="https://github.com/bazelbuild/bazel/releases/download/3.7.2/bazel-3.7.2-linux-x86_64"

if [[ -n "${ENVLOGGER_ENGINE:-}" ]]; then
  ENGINE="$ENVLOGGER_ENGINE"
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  ENGINE=docker
elif command -v podman >/dev/null || [[ "$(id -u)" == 0 ]]; then
  ENGINE=podman
else
  echo "no container engine: start Docker, or install podman (docker/prepare_host.sh)" >&2
  exit 1
fi
if [[ "$ENGINE" == podman ]]; then
  export CONTAINERS_CONF="$DOCKER_DIR/containers.conf"
fi

if [[ -z "${BAZEL_SOURCE:-}" ]]; then
  if curl --silent --head --location --fail --max-time 15 -o /dev/null "$BAZEL_RELEASE_URL"; then
    BAZEL_SOURCE=release
  else
    BAZEL_SOURCE=debian
    echo "The Bazel release site is unreachable: using Debian's bazel-bootstrap 4.2.3 (BAZEL_SOURCE=debian)." >&2
  fi
fi
export BAZEL_SOURCE  # build.sh, when run_tests.sh calls it, need not probe again

IMAGE="envlogger-dev:$(cat "$DOCKER_DIR/Dockerfile" "$DOCKER_DIR/requirements.lock" \
  <(echo "$BAZEL_SOURCE ${DEBIAN_MIRROR:-} ${PIP_INDEX_URL:-}") \
  | sha256sum | cut -c1-12)"
