#!/usr/bin/env bash
# Builds envlogger's libFuzzer targets (envlogger/**/fuzz/*_fuzzer.cc) with
# clang, for scripts/fuzz.sh and scripts/fuzz_campaign.sh.
#
# Usage: scripts/fuzz_build.sh [asan|coverage]
#   asan      (default) ASan + UBSan, into build/fuzz/
#   coverage  source-based coverage (-fprofile-instr-generate
#             -fcoverage-mapping), no sanitizers, into build/fuzz-cov/
# Each library object is rebuilt only when its source or any header changed.
# Needs: clang and libFuzzer (Debian: apt-get install clang libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-asan}"
CXX="${FUZZ_CXX:-clang++}"
case "$MODE" in
  asan) OUT=build/fuzz; MODE_FLAGS=(-O1 -fsanitize=address,undefined -fno-sanitize-recover=all
          -fsanitize-coverage-ignorelist="$PWD/scripts/fuzz_coverage_ignorelist.txt") ;;
  coverage) OUT=build/fuzz-cov; MODE_FLAGS=(-O1 -fprofile-instr-generate -fcoverage-mapping) ;;
  *) echo "unknown mode: $MODE (asan or coverage)" >&2; exit 2 ;;
esac
mkdir -p "$OUT/obj"
SRC="$OUT/src"
# Compile a snapshot of the sources, so that files edited during the build
# cannot mix old and new declarations (false memory errors).
rm -rf "$SRC" && mkdir -p "$SRC"
find envlogger \( -name '*.cc' -o -name '*.h' \) -print0 | xargs -0 cp --parents -t "$SRC"
FLAGS=(-std=c++17 -g -I"$SRC" -fno-omit-frame-pointer "${MODE_FLAGS[@]}")

# The core sources the targets need (the same convention as CMakeLists.txt).
mapfile -t SOURCES < <(cd "$SRC" && find envlogger/base envlogger/riegeli envlogger/backends/cc envlogger/converters -name '*.cc' \
  ! -name '*_test.cc' ! -name '*_benchmark.cc' ! -name '*_main.cc' ! -path '*/python/*' ! -path '*/fuzz/*' | sort)
# Library objects depend on the library headers (not on the fuzz targets' own),
# the flags and the coverage ignorelist.
HEADERS="$({ (cd "$SRC" && find envlogger -name '*.h' ! -path '*/fuzz/*' | sort | xargs cat)
  echo "${FLAGS[*]}"; cat scripts/fuzz_coverage_ignorelist.txt; } | sha256sum | cut -c1-16)"
OBJECTS=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  stamp="$HEADERS-$(sha256sum "$SRC/$src" | cut -c1-16)"
  OBJECTS+=("$obj")
  if [ ! -f "$obj" ] || [ "$(cat "$obj.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "$CXX -c $src"
    rm -f "$obj.stamp"
    ( "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$SRC/$src" -o "$obj" && echo "$stamp" > "$obj.stamp" ) &
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
  fi
done
wait
for obj in "${OBJECTS[@]}"; do [ -f "$obj.stamp" ] || { echo "build failed: $obj" >&2; exit 1; }; done

for target in $(cd "$SRC" && find envlogger -path '*/fuzz/*_fuzzer.cc' | sort); do
  name=$(basename "$target" .cc)
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer "$SRC/$target" "${OBJECTS[@]}" -lbrotlienc -lbrotlidec -lzstd -lsnappy \
    -lgmpxx -lgmp -lpthread -o "$OUT/$name"
done
