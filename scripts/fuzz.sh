#!/usr/bin/env bash
# Builds envlogger's libFuzzer targets (envlogger/**/fuzz/*_fuzzer.cc) with
# clang, ASan and UBSan, and runs each for a bounded time from its committed
# seed corpus (the `corpus/` directory beside it). Fails if any target finds
# a crash, a sanitizer report, a timeout or an out-of-memory; the reproducing
# input is left in build/fuzz/artifacts/ (add it to the corpus and write a
# regression test for it).
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30; FUZZ_SECONDS too)
# Needs: clang and libFuzzer (Debian: apt-get install clang libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-30}}"
CXX="${FUZZ_CXX:-clang++}"
OUT=build/fuzz
mkdir -p "$OUT/obj" "$OUT/artifacts"
SRC="$OUT/src"
# Compile a snapshot of the sources, so that files edited during the build
# cannot mix old and new declarations (false memory errors).
rm -rf "$SRC" && mkdir -p "$SRC"
find envlogger \( -name '*.cc' -o -name '*.h' \) -print0 | xargs -0 cp --parents -t "$SRC"
FLAGS=(-std=c++17 -O1 -g -I"$SRC" -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)

# The core sources the targets need (the same convention as CMakeLists.txt).
mapfile -t SOURCES < <(cd "$SRC" && find envlogger/riegeli envlogger/backends/cc envlogger/converters -name '*.cc' \
  ! -name '*_test.cc' ! -name '*_benchmark.cc' ! -name '*_main.cc' ! -path '*/python/*' ! -path '*/fuzz/*' | sort)
# Rebuild everything whenever any source or header changed.
STAMP="$(cd "$SRC" && find envlogger -type f | sort | xargs cat | sha256sum | cut -c1-16)"
if [ "$(cat "$OUT/obj/stamp" 2>/dev/null)" != "$STAMP" ]; then rm -f "$OUT"/obj/*.o; fi
OBJECTS=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  OBJECTS+=("$obj")
  if [ ! -f "$obj" ]; then
    echo "$CXX -c $src"
    "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$SRC/$src" -o "$obj" &
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
  fi
done
wait
echo "$STAMP" > "$OUT/obj/stamp"

status=0
for target in $(find envlogger -path '*/fuzz/*_fuzzer.cc' | sort); do
  name=$(basename "$target" .cc)
  bin="$OUT/$name"
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer "$SRC/$target" "${OBJECTS[@]}" -lbrotlienc -lbrotlidec -lzstd -lsnappy \
    -lgmpxx -lgmp -lpthread -o "$bin"
  work="$OUT/corpus-$name"
  mkdir -p "$work"
  echo "== $name: ${SECONDS_PER_TARGET}s from $(dirname "$target")/corpus"
  if ! "$bin" "$work" "$(dirname "$target")/corpus" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
       -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$name-" \
       > "$OUT/$name.log" 2>&1; then
    echo "FAIL: $name found a problem; see $OUT/$name.log and $OUT/artifacts/"
    tail -40 "$OUT/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$OUT/$name.log" | tail -2
    echo "ok: $name"
  fi
done
exit "$status"
