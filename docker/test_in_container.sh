#!/usr/bin/env bash
# Inside the development image: copies the source tree mounted at /src to a
# scratch directory and runs every test suite there, each even if an earlier
# one failed:
#   pytest  the Python tests, against envlogger._native built in place by setup.py
#   ctest   the C++ gtest suites (CMake)
#   bazel   bazel test //envlogger/... (offline, third_party/bazel/run_bazel_tests.sh)
# Prints one summary line per suite and, last, "total: N passed, N failed,
# N skipped". ENVLOGGER_SUITES selects suites (default: "pytest ctest bazel").
set -uo pipefail

SRC="${1:-/src}"
WORK="$(mktemp -d /tmp/envlogger.XXXXXX)"
tar -C "$SRC" -c \
  --exclude=./.git --exclude=./build --exclude=./.venv --exclude='./bazel-*' \
  --exclude='*.so' --exclude=__pycache__ . \
  | tar -C "$WORK" -x
cd "$WORK"
LOGS="$WORK/build/logs"
mkdir -p "$LOGS"
PYTHON="${ENVLOGGER_PYTHON:-python3}"

total_passed=0
total_failed=0
total_skipped=0
summary=()
record() {  # record SUITE PASSED FAILED EXIT_STATUS [SKIPPED]
  local passed="${2:-0}" failed="${3:-0}" skipped="${5:-0}"
  if [[ "$4" != 0 && "$failed" == 0 ]]; then failed=1; fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  summary+=("$(printf '%-7s %5d passed, %d failed, %d skipped (exit %d)' "$1" "$passed" "$failed" "$skipped" "$4")")
}

run_pytest() {
  local rc=0 line
  { "$PYTHON" setup.py -q build_ext --inplace &&
    "$PYTHON" -m pytest -q -rfEs -p no:cacheprovider envlogger; } >"$LOGS/pytest.log" 2>&1 || rc=$?
  grep -E '^(SKIPPED|FAILED|ERROR)' "$LOGS/pytest.log"
  tail -3 "$LOGS/pytest.log"
  line="$(grep -E '[0-9]+ (passed|failed)' "$LOGS/pytest.log" | tail -1)"
  record pytest "$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')" \
    "$(grep -oE '[0-9]+ (failed|errors?)' <<<"$line" | awk '{s += $1} END {print s + 0}')" "$rc" \
    "$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')"
}

run_ctest() {
  local rc=0 line total failed
  { cmake -S . -B build/cc -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build/cc -j"$(nproc)" &&
    ctest --test-dir build/cc --output-on-failure -j"$(nproc)"; } >"$LOGS/ctest.log" 2>&1 || rc=$?
  tail -15 "$LOGS/ctest.log"
  line="$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$LOGS/ctest.log" | tail -1)"
  total="$(grep -oE 'out of [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
  failed="$(grep -oE '[0-9]+ tests failed' <<<"$line" | grep -oE '[0-9]+')"
  record ctest "$((${total:-0} - ${failed:-0}))" "${failed:-0}" "$rc"
}

run_bazel() {
  local rc=0 line total passed skipped
  third_party/bazel/run_bazel_tests.sh >"$LOGS/bazel.log" 2>&1 || rc=$?
  grep -vE '^(Loading|Analyzing|INFO: From|\[[0-9,]+ / [0-9,]+\])' "$LOGS/bazel.log" | tail -25
  line="$(grep -E 'Executed [0-9]+ out of [0-9]+ tests?' "$LOGS/bazel.log" | tail -1)"
  total="$(grep -oE 'out of [0-9]+' <<<"$line" | grep -oE '[0-9]+')"
  passed="$(grep -oE '[0-9]+ tests? pass' <<<"$line" | grep -oE '[0-9]+')"
  # py_test targets whose tests were all skipped pass in Bazel; count them as
  # skipped (third_party/bazel/pytest_runner.py marks their logs).
  skipped="$(grep -rls ENVLOGGER-PYTEST-ALL-SKIPPED bazel-testlogs/ --include=test.log | wc -l)"
  grep -rhs ENVLOGGER-PYTEST-ALL-SKIPPED bazel-testlogs/ --include=test.log
  record bazel "$((${passed:-0} - skipped))" "$((${total:-0} - ${passed:-0}))" "$rc" "$skipped"
}

status=0
for suite in ${ENVLOGGER_SUITES:-pytest ctest bazel}; do
  echo "======================== $suite ========================"
  start=$SECONDS
  "run_$suite" || true
  echo "($suite took $((SECONDS - start)) s)"
done
echo "======================== summary ========================"
printf '%s\n' "${summary[@]}"
[[ "$total_failed" == 0 ]] || status=1
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
exit "$status"
