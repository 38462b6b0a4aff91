#!/usr/bin/env bash
# Runs `bazel test //envlogger/...` offline: configures the local repositories
# (configure.sh) for the project's Python, then tests with the Bazel at hand.
#
#   third_party/bazel/run_bazel_tests.sh [extra bazel test flags...]
#
# Python: $ENVLOGGER_PYTHON, else .venv/bin/python (scripts/setup.sh makes it),
# else python3 on PATH; it needs pytest, numpy, dm-env, ... (requirements-dev.txt).
# Bazel: $ENVLOGGER_BAZEL, else `bazel` if it is 3.7.2 (the release binary, as
# in the Docker image), else Debian's bazel-bootstrap 4.2.3 through
# USE_BAZEL_VERSION=4 (Debian's /usr/bin/bazel refuses .bazelversion 3.7.2).
# Under CI (CI=true) the Bazel server is shut down afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python="${ENVLOGGER_PYTHON:-}"
if [[ -z "$python" && -x .venv/bin/python ]]; then
  python="$PWD/.venv/bin/python"
fi
third_party/bazel/configure.sh --python "${python:-python3}"

if [[ -n "${ENVLOGGER_BAZEL:-}" ]]; then
  bazel=("$ENVLOGGER_BAZEL")
elif command -v bazel >/dev/null && [[ "$(bazel --version 2>/dev/null)" == "bazel 3.7.2"* ]]; then
  bazel=(bazel)
elif command -v bazel-4 >/dev/null; then
  bazel=(bazel-4)
else
  echo "run_bazel_tests.sh: no Bazel found (apt-get install bazel-bootstrap bazel-rules-proto)" >&2
  exit 1
fi

status=0
"${bazel[@]}" test //envlogger/... "$@" || status=$?
if [[ "${CI:-}" == "true" ]]; then
  "${bazel[@]}" shutdown || true
fi
exit "$status"
