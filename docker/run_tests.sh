#!/usr/bin/env bash
# Runs envlogger's whole test suite in the development image: pytest, ctest
# and `bazel test //envlogger/...` (see docker/test_in_container.sh). Builds
# the image first if this version of it does not exist yet. The source tree is
# mounted read-only and copied inside, so nothing on the host changes; the
# container has no network.
#
#   docker/run_tests.sh
#
# Environment: as docker/build.sh, plus ENVLOGGER_SUITES (see
# test_in_container.sh) to run only some suites. The last line printed is the total,
# "total: N passed, N failed, N skipped"; the exit status is non-zero if any part failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"

if ! "$ENGINE" image inspect "$IMAGE" >/dev/null 2>&1; then
  IMAGE="$("$DOCKER_DIR/build.sh")"
fi
echo "Testing in $IMAGE ($ENGINE)" >&2
exec "$ENGINE" run --rm --network none --volume "$ROOT:/src:ro" \
  --env ENVLOGGER_SUITES="${ENVLOGGER_SUITES:-pytest ctest bazel}" --env CI="${CI:-}" "$IMAGE" \
  /src/docker/test_in_container.sh
