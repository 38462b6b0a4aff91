#!/usr/bin/env bash
# A long fuzzing campaign: every fuzz target of envlogger (the libFuzzer
# targets under ASan + UBSan and the atheris targets) runs in parallel, each
# from a persistent corpus seeded by its committed one, for HOURS or until it
# has FUZZ_RUNS executions (default 10 million, counting earlier campaigns'),
# whichever comes first. Then a
# coverage build (llvm-cov) replays each target's final corpus and lists the
# decoder lines that no input reached.
#
# Usage: scripts/fuzz_campaign.sh HOURS
#   FUZZ_CAMPAIGN_DIR  where corpora, logs, findings and coverage go
#                      (default build/fuzz-campaign; kept between campaigns)
#   FUZZ_RUNS          executions per target (default 10000000)
#   FUZZ_JOBS          targets run at once (default: all of them)
#   FUZZ_TARGETS="a b" only those targets
#   FUZZ_PYTHON        Python for the atheris targets (default .venv/bin/python)
#   FUZZ_NICE          niceness of the fuzzers (default 10)
#
# Output, in FUZZ_CAMPAIGN_DIR: corpus/<target>/ (the persistent corpus),
# logs/<target>.log, artifacts/ (every finding: fix it, then copy the input
# into envlogger/**/fuzz/corpus/<target>/ as a regression input),
# coverage/summary.txt (per decoder file: line and region coverage) and
# coverage/unreached.txt (the decoder lines no input reached),
# ledger.tsv (one line per target and campaign: date, commit, target,
# executions, exec/s; campaigns continue each other on the persistent
# corpus, so a target's executions add up across them), and summary.txt (per
# target: executions of this campaign and of all, exec/s, findings, coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS="${1:?usage: scripts/fuzz_campaign.sh HOURS}"
SECONDS_TOTAL=$(awk -v h="$HOURS" 'BEGIN { printf "%d", h * 3600 }')
RUNS="${FUZZ_RUNS:-10000000}"
DIR="${FUZZ_CAMPAIGN_DIR:-build/fuzz-campaign}"
PYTHON="${FUZZ_PYTHON:-.venv/bin/python}"
# A smaller quarantine than ASan's 256 MB default: the same checks, far fewer
# page faults per input (see docs/fuzzing.md).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=10}"
mkdir -p "$DIR/corpus" "$DIR/logs" "$DIR/artifacts" "$DIR/coverage"
touch "$DIR/ledger.tsv"

scripts/fuzz_build.sh asan
scripts/fuzz_build.sh coverage

target_options() { sed -n 's/^\(\/\/\|#\) fuzz-options: //p' "$1"; }
# Executions of target $1 in all campaigns so far (the ledger).
ledger_total() { awk -F'\t' -v t="$1" '$3 == t { n += $4 } END { print n + 0 }' "$DIR/ledger.tsv"; }

TARGETS=()
for target in $(find envlogger -path '*/fuzz/*_fuzzer.cc' -o -path '*/fuzz/*_fuzzer.py' | sort); do
  name=$(basename "$target"); name="${name%.*}"
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  TARGETS+=("$target")
done
JOBS="${FUZZ_JOBS:-${#TARGETS[@]}}"
# The atheris targets import envlogger._native from this tree.
if [[ " ${TARGETS[*]} " == *.py\ * ]] && ! "$PYTHON" -c 'import envlogger._native' 2> /dev/null; then
  ENVLOGGER_BUILD_JOBS="$(nproc)" "$PYTHON" setup.py -q build_ext --inplace
fi

echo "== ${#TARGETS[@]} targets, ${HOURS} h or ${RUNS} executions each, ${JOBS} at a time, in $DIR"
for target in "${TARGETS[@]}"; do
  name=$(basename "$target"); name="${name%.*}"
  case "$target" in
    *.cc) cmd=(build/fuzz/"$name") ;;
    *.py) cmd=("$PYTHON" "$target") ;;
  esac
  mkdir -p "$DIR/corpus/$name"
  # Earlier campaigns' executions count: run what is missing to FUZZ_RUNS.
  done_runs=$(ledger_total "$name")
  if [ "$done_runs" -ge "$RUNS" ]; then
    echo "$name: $done_runs executions already" > "$DIR/logs/$name.log"
    continue
  fi
  # shellcheck disable=SC2046
  nice -n "${FUZZ_NICE:-10}" "${cmd[@]}" "$DIR/corpus/$name" "$(dirname "$target")/corpus/$name" \
    -runs=$((RUNS - done_runs)) -max_total_time="$SECONDS_TOTAL" -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=256 \
    $(target_options "$target") -print_final_stats=1 -artifact_prefix="$DIR/artifacts/$name-" \
    > "$DIR/logs/$name.log" 2>&1 &
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
done
wait || true

# The ledger: this campaign's executions per target, added to earlier ones.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
for target in "${TARGETS[@]}"; do
  name=$(basename "$target"); name="${name%.*}"
  log="$DIR/logs/$name.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  [ -n "$runs" ] || continue  # Not run this time.
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$COMMIT" "$name" "$runs" "${rate:-0}" \
    >> "$DIR/ledger.tsv"
done

# Coverage of the libFuzzer targets: replay each final corpus with the
# coverage build, merge the profiles, and report the decoder sources.
# The reading side of the library: its sources minus writers, encoders and
# file-system plumbing, which no target exercises.
DECODERS=(envlogger/riegeli envlogger/backends/cc envlogger/converters)
mapfile -t SOURCES < <(cd build/fuzz-cov/src && find "${DECODERS[@]}" -name '*.cc' ! -name '*_test.cc' \
  ! -name '*_benchmark.cc' ! -name '*_main.cc' ! -path '*/python/*' ! -path '*/fuzz/*' | sort |
  grep -Ev '(_writer|_encoder|fd_io|filesystem|buffer_pool|brotli_block_cache|status)\.cc$' | sed 's|^|build/fuzz-cov/src/|')
PROFILES=()
for target in "${TARGETS[@]}"; do
  [[ "$target" == *.cc ]] || continue
  name=$(basename "$target" .cc)
  LLVM_PROFILE_FILE="$DIR/coverage/$name.profraw" build/fuzz-cov/"$name" -runs=0 -rss_limit_mb=0 \
    $(target_options "$target") "$DIR/corpus/$name" "$(dirname "$target")/corpus/$name" > /dev/null 2>&1 || true
  llvm-profdata merge -sparse "$DIR/coverage/$name.profraw" -o "$DIR/coverage/$name.profdata"
  llvm-cov report build/fuzz-cov/"$name" -instr-profile="$DIR/coverage/$name.profdata" "${SOURCES[@]}" \
    > "$DIR/coverage/$name.txt" 2>/dev/null || true
  PROFILES+=("$DIR/coverage/$name.profraw")
done
if [ "${#PROFILES[@]}" -gt 0 ]; then
  llvm-profdata merge -sparse "${PROFILES[@]}" -o "$DIR/coverage/all.profdata"
  # Every target binary holds the whole library; any of them maps the merged profile.
  first=$(basename "${PROFILES[0]}" .profraw)
  llvm-cov report build/fuzz-cov/"$first" -instr-profile="$DIR/coverage/all.profdata" "${SOURCES[@]}" \
    > "$DIR/coverage/summary.txt" 2>/dev/null || true
  # Lines with a zero count, as "file:line: text".
  llvm-cov show build/fuzz-cov/"$first" -instr-profile="$DIR/coverage/all.profdata" -show-line-counts \
    "${SOURCES[@]}" 2>/dev/null | sed -n \
    -e 's|^.*build/fuzz-cov/src/\(envlogger/.*\):$|FILE \1|p' \
    -e 's/^ *\([0-9][0-9]*\)| *0|\(.*\)$/LINE \1:\2/p' |
    awk '$1 == "FILE" { file = $2; next } { sub(/^LINE /, ""); print file ":" $0 }' \
    > "$DIR/coverage/unreached.txt" || true
fi

# Summary: executions, speed, findings and coverage per target.
{
  printf '%-28s %12s %12s %9s %9s %s\n' target executions "all (ledger)" exec/s findings \
    "decoder lines covered"
  for target in "${TARGETS[@]}"; do
    name=$(basename "$target"); name="${name%.*}"
    log="$DIR/logs/$name.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    total=$(ledger_total "$name")
    findings=$(find "$DIR/artifacts" -name "$name-*" | wc -l)
    cov=$(awk '/^TOTAL/ { print $10 }' "$DIR/coverage/$name.txt" 2>/dev/null || true)
    printf '%-28s %12s %12s %9s %9s %s\n' "$name" "${runs:-?}" "$total" "${rate:-?}" "$findings" \
      "${cov:-n/a}"
  done
  echo
  echo "decoder sources: $(awk '/^TOTAL/ { print "lines " $10 ", regions " $4 }' "$DIR/coverage/summary.txt" 2>/dev/null)"
  if [ -f "$DIR/coverage/unreached.txt" ]; then
    echo "unreached decoder lines: $(wc -l < "$DIR/coverage/unreached.txt") (coverage/unreached.txt)"
  fi
} | tee "$DIR/summary.txt"
if [ -n "$(ls -A "$DIR/artifacts")" ]; then
  echo "FINDINGS in $DIR/artifacts: fix each, then add its input to the committed corpus."
  exit 1
fi
