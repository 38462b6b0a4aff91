#!/usr/bin/env bash
# Checks formatting and lint without changing anything:
#   C++     clang-format --dry-run -Werror (style: .clang-format)
#   Python  ruff format --check, then ruff check (config: pyproject.toml)
# The tool versions are pinned in requirements-dev.txt, so the verdict does not
# depend on the machine. Exit status non-zero if any check fails; prints one
# "lint: N passed, N failed" line (the checks, not the files).
# Usage: scripts/lint.sh [--fix]   (--fix rewrites the files instead of checking)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${ENVLOGGER_VENV:-.venv}/bin"
for tool in clang-format ruff; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "lint: $BIN/$tool not found; run scripts/setup.sh (it installs requirements-dev.txt)" >&2
    exit 1
  fi
done

mapfile -t CXX_FILES < <(git ls-files '*.cc' '*.h' ':!:third_party/bazel_stubs/**')
passed=0
failed=0
check() {  # check NAME COMMAND...
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"
  else failed=$((failed + 1)); echo "FAIL: $name"; fi
}

if [ "${1:-}" = "--fix" ]; then
  "$BIN/clang-format" -i "${CXX_FILES[@]}"
  "$BIN/ruff" format --quiet .
  "$BIN/ruff" check --fix --quiet .
  exit $?
fi

check clang-format "$BIN/clang-format" --dry-run -Werror "${CXX_FILES[@]}"
check "ruff format" "$BIN/ruff" format --check --quiet .
check "ruff check" "$BIN/ruff" check --quiet .
echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
