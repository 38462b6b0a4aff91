#!/usr/bin/env bash
# Sets up the machine and runs every test of envlogger, in parts:
#   lint        scripts/lint.sh: C++ and Python formatting (clang-format, ruff) and ruff's lint
#   ctest       the C++ gtest suites, then again under ASan + UBSan
#   pytest      the Python suite (tests beside the code, *_test.py); runs after
#               ctest so that the cross-language test finds the C++ reader built
#               in build/cc instead of skipping
#   wheel       pip wheel + install into a fresh venv + import/run from another directory
#   bazel       bazel test //envlogger/... (offline, Debian's Bazel 4.2.3)
#   container   docker/run_tests.sh: builds the pinned image and runs the suite inside it
#   fuzz        scripts/fuzz.sh: each fuzz target for FUZZ_SECONDS (default 15) from its seed corpus
# Every part runs even if an earlier one failed; the exit status is non-zero if
# any failed. The last line totals the tests: "N passed, N failed".
# Usage: scripts/test.sh [part ...]   (default: all parts)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
ALL_PARTS=(lint ctest pytest wheel bazel container fuzz)
PARTS=("$@")
if [ "${#PARTS[@]}" -eq 0 ]; then PARTS=("${ALL_PARTS[@]}"); fi

scripts/setup.sh --full || exit 1

LOG_DIR="$ROOT/build/test-logs"
mkdir -p "$LOG_DIR"
total_passed=0
total_failed=0
summary=()

record() {  # record PART PASSED FAILED STATUS
  total_passed=$((total_passed + $2)); total_failed=$((total_failed + $3))
  summary+=("$(printf '%-10s %-6s %5d passed, %d failed' "$1" "$4" "$2" "$3")")
}

run_pytest() {
  local log="$LOG_DIR/pytest.log"
  # The TFDS tests must run here, not skip.
  ENVLOGGER_REQUIRE_TFDS=1 .venv/bin/python -m pytest -q -rs -p no:cacheprovider envlogger 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line passed failed
  line=$(grep -E "^=*.*[0-9]+ (passed|failed)" "$log" | tail -1)
  passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+" || echo 0)
  failed=$(echo "$line" | grep -oE "[0-9]+ (failed|errors?)" | awk '{s += $1} END {print s + 0}')
  [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record pytest "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_ctest_dir() {  # run_ctest_dir NAME BUILD_DIR CMAKE_ARGS...
  local name="$1" dir="$2"; shift 2
  local log="$LOG_DIR/$name.log"
  {
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null &&
    cmake --build "$dir" -j"$(nproc)" &&
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
  } 2>&1 | tee "$log" | grep -E "tests passed|tests failed|Failed|Error|error:|\*\*\*" || true
  local rc=${PIPESTATUS[0]}
  local line total failed
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  total=$(echo "$line" | grep -oE "out of [0-9]+" | grep -oE "[0-9]+")
  failed=$(echo "$line" | grep -oE "[0-9]+ tests failed" | grep -oE "[0-9]+")
  [ -n "$total" ] || total=0; [ -n "$failed" ] || failed=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record "$name" "$((total - failed > 0 ? total - failed : 0))" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_ctest() {
  local rc=0
  run_ctest_dir ctest build/cc || rc=1
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest_dir ctest-asan build/asan -DENVLOGGER_SANITIZE=ON || rc=1
  return "$rc"
}

run_wheel() {
  local log="$LOG_DIR/wheel.log" rc=0
  {
    rm -rf build/wheel build/wheel-venv &&
    .venv/bin/python -m pip wheel -q --no-deps -w build/wheel . &&
    "${PYTHON:-python3}" -m venv build/wheel-venv &&
    build/wheel-venv/bin/python -m pip install -q build/wheel/envlogger-*.whl &&
    (cd /tmp && "$ROOT/build/wheel-venv/bin/python" -c "import envlogger, sys; print('imported', envlogger.__file__)" &&
     "$ROOT/build/wheel-venv/bin/python" -m envlogger.examples.random_agent_catch --num_episodes=3 \
        --trajectories_dir="$ROOT/build/wheel-catch")
  } >"$log" 2>&1 || rc=1
  tail -5 "$log"
  record wheel "$([ $rc -eq 0 ] && echo 1 || echo 0)" "$([ $rc -eq 0 ] && echo 0 || echo 1)" "$([ $rc -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_bazel() {
  local log="$LOG_DIR/bazel.log"
  third_party/bazel/run_bazel_tests.sh 2>&1 | tee "$log" | tail -40
  local rc=${PIPESTATUS[0]}
  local line passed total
  line=$(grep -E "Executed [0-9]+ out of [0-9]+ tests?:" "$log" | tail -1)
  total=$(echo "$line" | grep -oE "out of [0-9]+" | grep -oE "[0-9]+")
  passed=$(echo "$line" | grep -oE "[0-9]+ tests? pass" | grep -oE "[0-9]+")
  [ -n "$total" ] || total=0; [ -n "$passed" ] || passed=0
  local failed=$((total - passed)); if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  # Bazel has no skipped state: a py_test whose tests all skipped "passes";
  # the pytest runner marks its log, and it is not counted as passed here.
  local skipped
  skipped=$(grep -rl ENVLOGGER-PYTEST-ALL-SKIPPED bazel-testlogs/ --include=test.log 2>/dev/null | wc -l)
  passed=$((passed > skipped ? passed - skipped : 0))
  if [ "$skipped" -gt 0 ]; then echo "bazel: $skipped test targets skipped every test"; fi
  record bazel "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_container() {
  local log="$LOG_DIR/container.log"
  # ctest already ran on the host; in the image: pytest and Bazel 3.7.2 (or
  # Debian's 4.2.3 where the Bazel release site is unreachable).
  ENVLOGGER_SUITES="pytest bazel" docker/run_tests.sh 2>&1 | tee "$log" | tail -40
  local rc=${PIPESTATUS[0]}
  local line passed failed
  line=$(grep -E "^[A-Za-z]*:? ?[0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+")
  failed=$(echo "$line" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
  [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record container "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_lint() {
  local log="$LOG_DIR/lint.log"
  scripts/lint.sh 2>&1 | tee "$log" | tail -20
  local rc=${PIPESTATUS[0]}
  local passed failed
  passed=$(grep -c "^ok:" "$log"); failed=$(grep -c "^FAIL:" "$log")
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record lint "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

run_fuzz() {
  local log="$LOG_DIR/fuzz.log"
  scripts/fuzz.sh 2>&1 | tee "$log" | grep -E "^(ok|FAIL):"
  local rc=${PIPESTATUS[0]}
  local passed failed
  passed=$(grep -c "^ok:" "$log"); failed=$(grep -c "^FAIL:" "$log")
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record fuzz "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
  return "$rc"
}

status=0
for part in "${PARTS[@]}"; do
  echo
  echo "======================== $part ========================"
  start=$(date +%s)
  "run_$part" || status=1
  echo "($part took $(( $(date +%s) - start )) s)"
done

echo
echo "======================== summary ========================"
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed"
exit "$status"
