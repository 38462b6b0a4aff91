#!/usr/bin/env bash
# Runs every fuzz target of envlogger for a bounded time from its committed
# seed corpus (the `corpus/` directory beside it): the libFuzzer targets
# (envlogger/**/fuzz/*_fuzzer.cc, built with ASan + UBSan by
# scripts/fuzz_build.sh) and the atheris targets (envlogger/**/fuzz/*_fuzzer.py,
# run with .venv's Python). Fails if any target finds a crash, a sanitizer
# report, a timeout or an out-of-memory; the reproducing input is left in
# build/fuzz/artifacts/ (fix it, add it to the corpus, and write a regression
# test where sensible).
#
# Every target runs with -rss_limit_mb=512 -malloc_limit_mb=256, so an input
# that makes a reader allocate what its size cannot justify is a failure, and
# with the -max_len given by the "fuzz-options:" line of its source.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 15; FUZZ_SECONDS too)
#   FUZZ_TARGETS="a b" limits the run to those target names.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-15}}"
PYTHON="${FUZZ_PYTHON:-.venv/bin/python}"
# A smaller quarantine than ASan's 256 MB default: the same checks, far fewer
# page faults per input (see docs/fuzzing.md).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=10}"
OUT=build/fuzz
mkdir -p "$OUT/artifacts"
scripts/fuzz_build.sh asan

# The options a target's source asks for ("fuzz-options: ..." comment line).
target_options() {
  sed -n 's/^\(\/\/\|#\) fuzz-options: //p' "$1"
}

status=0
for target in $(find envlogger -path '*/fuzz/*_fuzzer.cc' -o -path '*/fuzz/*_fuzzer.py' | sort); do
  name=$(basename "$target"); name="${name%.*}"
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  case "$target" in
    *.cc) cmd=("$OUT/$name") ;;
    *.py)
      cmd=("$PYTHON" "$target")
      if ! "$PYTHON" -c 'import atheris' 2> /dev/null; then
        echo "FAIL: $name needs atheris in $PYTHON (requirements-dev.txt)"
        status=1
        continue
      fi ;;
  esac
  work="$OUT/corpus-$name"
  mkdir -p "$work"
  budget=(-max_total_time="$SECONDS_PER_TARGET")
  echo "== $name: ${budget[*]} from $(dirname "$target")/corpus"
  # shellcheck disable=SC2046
  if ! "${cmd[@]}" "$work" "$(dirname "$target")/corpus/$name" "${budget[@]}" -timeout=10 \
       -rss_limit_mb=512 -malloc_limit_mb=256 $(target_options "$target") -print_final_stats=1 \
       -artifact_prefix="$OUT/artifacts/$name-" > "$OUT/$name.log" 2>&1; then
    echo "FAIL: $name found a problem; see $OUT/$name.log and $OUT/artifacts/"
    tail -40 "$OUT/$name.log"
    status=1
  else
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log" | tail -1)
    echo "ok: $name: ${runs:-?} executions, $((${runs:-0} / SECONDS_PER_TARGET)) exec/s; $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$OUT/$name.log" | tail -1)"
  fi
done
exit "$status"
