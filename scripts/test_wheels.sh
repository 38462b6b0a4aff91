#!/usr/bin/env bash
# Installs the wheels of scripts/build_wheels.sh the way users would and checks
# each one: records and reads Catch (scripts/wheel_smoke.py, run outside the
# source tree) and runs `envlogger verify` on the result.
#   - the wheel for the distribution's Python (Debian 12: cp311) in a fresh
#     container with that Python and nothing else (docker/Dockerfile.python),
#     offline: its dependencies are downloaded first and mounted;
#   - every other version's wheel in a fresh venv of that CPython
#     (scripts/pythons.sh), dependencies from PyPI.
#
#   scripts/test_wheels.sh [WHEEL_DIR]      # default: dist/
#
# Prints "ok: ..." or "FAIL: ..." per wheel, and last "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WHEELS="$(cd "${1:-dist}" && pwd)" || exit 1
source scripts/pythons.sh
WORK="$ROOT/build/wheel-test"
rm -rf "$WORK"
mkdir -p "$WORK"
passed=0
failed=0
result() {  # result STATUS WHAT
  if [[ "$1" == 0 ]]; then passed=$((passed + 1)); echo "ok: $2"; else failed=$((failed + 1)); echo "FAIL: $2"; fi
}
wheel_for() { ls "$WHEELS"/envlogger-*-"$1"-"$1"-*manylinux*.whl 2>/dev/null | head -1; }

# The distribution's Python, in the container.
image="$(docker/python_image.sh)" || image=""
container_tag=""
if [[ -n "$image" ]]; then
  BAZEL_SOURCE=none source docker/engine.sh
  container_tag="$("$ENGINE" run --rm --network none "$image" python3 -c \
    'import sys; print("cp%d%d" % sys.version_info[:2])')"
  wheel="$(wheel_for "$container_tag")"
  py="$(find_python "${container_tag:2:1}.${container_tag:3}")"
  if [[ -z "$wheel" ]]; then
    result 1 "$container_tag in $image: no $container_tag wheel in $WHEELS"
  elif ! "$py" -m pip download -q --only-binary=:all: -d "$WORK/deps" "$wheel" >"$WORK/deps.log" 2>&1; then
    cat "$WORK/deps.log"; result 1 "$container_tag in $image: downloading its dependencies failed"
  else
    "$ENGINE" run --rm --network none --volume "$WHEELS:/wheels:ro" --volume "$WORK/deps:/deps:ro" \
      --volume "$ROOT:/src:ro" "$image" /src/docker/test_wheel_in_container.sh "$(basename "$wheel")"
    result $? "$(basename "$wheel") in the Python-only container $image"
  fi
else
  result 1 "building the Python-only image failed"
fi

# Every other version, in a venv.
for py in $(wheel_pythons); do
  tag="$(wheel_tag "$py")"
  [[ "$tag" == "$container_tag" ]] && continue
  wheel="$(wheel_for "$tag")"
  if [[ -z "$wheel" ]]; then result 1 "$tag: no wheel in $WHEELS"; continue; fi
  venv="$WORK/venv-$tag"
  (
    set -e
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
    cd /tmp
    "$venv/bin/python" "$ROOT/scripts/wheel_smoke.py" "$WORK/catch-$tag"
    "$venv/bin/envlogger" verify "$WORK/catch-$tag"
  ) 2>&1 | grep -v "^WARNING: Location 'file:"
  result "${PIPESTATUS[0]}" "$(basename "$wheel") in a venv of $py"
done
echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
