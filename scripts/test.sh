#!/usr/bin/env bash
# Sets up the machine and runs every test of envlogger, in parts:
#   lint        scripts/lint.sh: C++ and Python formatting (clang-format, ruff) and ruff's lint
#   ctest       the C++ gtest suites, then again under ASan + UBSan
#   pytest      the Python suite (tests beside the code, *_test.py); runs after
#               ctest so that the cross-language test finds the C++ reader built
#               in build/cc instead of skipping
#   wheel       scripts/build_wheels.sh (CPython 3.9-3.13, auditwheel), then
#               scripts/test_wheels.sh: the distribution Python's wheel in a
#               Python-only container, the others in fresh venvs
#   bazel       bazel test //envlogger/... (offline, Debian's Bazel 4.2.3)
#   container   docker/run_tests.sh: builds the pinned image and runs the suite inside it
#   fuzz        scripts/fuzz.sh: each fuzz target for FUZZ_SECONDS (default 15) from its seed corpus
# Every part runs even if an earlier one failed; the exit status is non-zero if
# any failed. The summary shows passed, failed and skipped counts per part;
# the last line totals the tests: "total: N passed, N failed, N skipped". Servers the run
# started (Bazel's, Ray's) are shut down; any still running at the end are
# listed and stopped.
# Usage: scripts/test.sh [part ...]   (default: all parts)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
ALL_PARTS=(lint ctest pytest wheel bazel container fuzz)
PARTS=("$@")
if [ "${#PARTS[@]}" -eq 0 ]; then PARTS=("${ALL_PARTS[@]}"); fi

run_start=$(date +%s)
scripts/setup.sh --full || exit 1
echo "(setup took $(( $(date +%s) - run_start )) s)"

LOG_DIR="$ROOT/build/test-logs"
mkdir -p "$LOG_DIR"
total_passed=0
total_failed=0
total_skipped=0
summary=()

mark=$(date +%s)  # when the part (or the part's previous record) began
record() {  # record PART PASSED FAILED STATUS [SKIPPED]
  local skipped="${5:-0}" now
  now=$(date +%s)
  total_passed=$((total_passed + $2)); total_failed=$((total_failed + $3))
  total_skipped=$((total_skipped + skipped))
  summary+=("$(printf '%-10s %-4s %5d passed, %d failed, %d skipped  %5d s' "$1" "$4" "$2" "$3" "$skipped" "$((now - mark))")")
  mark=$now
}

run_pytest() {
  local log="$LOG_DIR/pytest.log"
  # The TFDS tests and the README's blocks that need an extra must run here, not skip.
  ENVLOGGER_REQUIRE_TFDS=1 ENVLOGGER_REQUIRE_EXTRAS=1 .venv/bin/python -m pytest -q -rs -p no:cacheprovider envlogger 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line passed failed skipped
  line=$(grep -E "^=*.*[0-9]+ (passed|failed)" "$log" | tail -1)
  passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+" || echo 0)
  failed=$(echo "$line" | grep -oE "[0-9]+ (failed|errors?)" | awk '{s += $1} END {print s + 0}')
  skipped=$(echo "$line" | grep -oE "[0-9]+ skipped" | grep -oE "[0-9]+" || echo 0)
  [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0; [ -n "$skipped" ] || skipped=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record pytest "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$skipped"
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
  local line total failed skipped
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  total=$(echo "$line" | grep -oE "out of [0-9]+" | grep -oE "[0-9]+")
  failed=$(echo "$line" | grep -oE "[0-9]+ tests failed" | grep -oE "[0-9]+")
  # ctest counts a skipped test among the passed ones; it is listed as "(Skipped)" or "(Not Run)".
  skipped=$(sed -n '/The following tests did not run:/,/^$/p' "$log" | grep -cE "\((Skipped|Not Run)\)")
  [ -n "$total" ] || total=0; [ -n "$failed" ] || failed=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record "$name" "$((total - failed - skipped > 0 ? total - failed - skipped : 0))" "$failed" \
    "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$skipped"
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
    scripts/build_wheels.sh dist &&
    scripts/test_wheels.sh dist
  } 2>&1 | tee "$log" | grep -E "^(==>|ok:|FAIL:|    envlogger-|[0-9]+ passed)" || true
  rc=${PIPESTATUS[0]}
  local line passed failed
  line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log" | tail -1)
  passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+")
  failed=$(echo "$line" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
  [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record wheel "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)"
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
  record bazel "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$skipped"
  return "$rc"
}

run_container() {
  local log="$LOG_DIR/container.log"
  # ctest already ran on the host; in the image: pytest and Bazel 3.7.2 (or
  # Debian's 4.2.3 where the Bazel release site is unreachable).
  ENVLOGGER_SUITES="pytest bazel" docker/run_tests.sh 2>&1 | tee "$log" | tail -40
  local rc=${PIPESTATUS[0]}
  local line passed failed
  local skipped
  line=$(grep -E "^total: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+")
  failed=$(echo "$line" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
  skipped=$(echo "$line" | grep -oE "[0-9]+ skipped" | grep -oE "[0-9]+")
  [ -n "$passed" ] || passed=0; [ -n "$failed" ] || failed=0; [ -n "$skipped" ] || skipped=0
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  record container "$passed" "$failed" "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$skipped"
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

stop_leftover_servers() {  # stop_leftover_servers SECONDS_SINCE_START
  # Bazel's server of this workspace (run_bazel_tests.sh shuts it down; this
  # catches an interrupted run) and Ray processes started during the run.
  local pid
  for pid in $(pgrep -f "[b]azel.*--output_user_root.*|[A]-server.jar" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--workspace_directory=$ROOT "; then
      echo "left running: Bazel server $pid; stopping it"; kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in $(pgrep -f "[r]aylet|[g]cs_server|ray::|[p]lasma_store|[d]ashboard/dashboard.py" 2>/dev/null); do
    local age
    age=$(ps -o etimes= -p "$pid" 2>/dev/null | tr -d ' ')
    if [ -n "$age" ] && [ "$age" -le "$1" ]; then
      echo "left running: Ray process $pid ($(ps -o comm= -p "$pid")); stopping it"; kill "$pid" 2>/dev/null || true
    fi
  done
}

status=0
for part in "${PARTS[@]}"; do
  echo
  echo "======================== $part ========================"
  start=$(date +%s); mark=$start
  "run_$part" || status=1
  echo "($part took $(( $(date +%s) - start )) s)"
done

stop_leftover_servers "$(( $(date +%s) - run_start ))"

echo
echo "======================== summary ========================"
printf '%s\n' "${summary[@]}"
echo "($(( $(date +%s) - run_start )) s in all, setup included)"
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
exit "$status"
