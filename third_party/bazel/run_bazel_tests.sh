#!/usr/bin/env bash
# Runs `bazel test //envlogger/...` offline: configures the local repositories
# (configure.sh) for the project's Python and the Bazel at hand, then tests.
#
#   third_party/bazel/run_bazel_tests.sh [extra bazel test flags...]
#
# Python: $ENVLOGGER_PYTHON, else .venv/bin/python (scripts/setup.sh makes it),
# else python3 on PATH; it needs pytest, numpy, dm-env, ... (requirements-dev.txt).
# Bazel: as configure.sh chooses it ($ENVLOGGER_BAZEL, a working `bazel`, or
# Debian's bazel-4). Under CI (CI=true) the Bazel server is shut down afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python="${ENVLOGGER_PYTHON:-}"
if [[ -z "$python" && -x .venv/bin/python ]]; then
  python="$PWD/.venv/bin/python"
fi
third_party/bazel/configure.sh --python "${python:-python3}"
bazel="$(cat third_party/bazel_stubs/generated/bazel_command)"

status=0
"$bazel" test //envlogger/... "$@" || status=$?
if [[ "${CI:-}" == "true" ]]; then
  "$bazel" shutdown || true
fi
exit "$status"
