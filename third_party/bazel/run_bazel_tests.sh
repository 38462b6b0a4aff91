#!/usr/bin/env bash
# Runs `bazel test //envlogger/...` (offline; the external repositories are
# local repository rules, see WORKSPACE) and shuts the Bazel server down
# afterwards, so that nothing is left running.
#
#   third_party/bazel/run_bazel_tests.sh [extra bazel test flags...]
#
# Bazel: $ENVLOGGER_BAZEL, else `bazel` if it runs for this workspace (a real
# 3.7.2, or Debian's wrapper with USE_BAZEL_VERSION set), else Debian's bazel-4
# (bazel-bootstrap 4.2.3). Python: as repositories.bzl finds it
# ($ENVLOGGER_PYTHON, .venv/bin/python, python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ -n "${ENVLOGGER_BAZEL:-}" ]]; then
  bazel="$ENVLOGGER_BAZEL"
elif command -v bazel >/dev/null && bazel --version >/dev/null 2>&1; then
  bazel=bazel
elif command -v bazel-4 >/dev/null; then
  bazel=bazel-4
else
  echo "run_bazel_tests.sh: no Bazel (apt-get install bazel-bootstrap, or install the 3.7.2 release as bazel)" >&2
  exit 1
fi

status=0
"$bazel" test //envlogger/... "$@" || status=$?
"$bazel" shutdown || true
exit "$status"
