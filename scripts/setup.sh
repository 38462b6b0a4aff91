#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for envlogger development:
#   system packages (compiler, compression libraries, gtest, pybind11, protoc),
#   a virtual environment in .venv with the Python dependencies,
#   and envlogger installed into it in editable mode (the C++ extension is built
#   in place, envlogger/_native*.so), so that after `source .venv/bin/activate`
#   `import envlogger` works from any directory and `envlogger` is on PATH.
# Idempotent: safe to run again. Usage: scripts/setup.sh [--full]
#   --full  also installs what the whole test suite needs: TensorFlow Datasets
#           (requirements-tfds.txt), the optional integrations
#           (requirements-extras.txt), Bazel, the container tools and ccache
#           (scripts/build_wheels.sh compiles the shared C++ sources once).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(build-essential cmake pkg-config python3-dev python3-venv
  libbrotli-dev libzstd-dev libsnappy-dev libgmp-dev libgtest-dev pybind11-dev protobuf-compiler)
if [ "${1:-}" = "--full" ]; then
  APT_PACKAGES+=(bazel-bootstrap bazel-rules-proto podman buildah runc debootstrap uidmap
    clang libclang-rt-14-dev ccache)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "==> pip install -r requirements-dev.txt"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements-dev.txt
if [ "${1:-}" = "--full" ]; then
  echo "==> pip install -r requirements-tfds.txt -r requirements-extras.txt"
  .venv/bin/python -m pip install -q -r requirements-dev.txt -r requirements-tfds.txt -r requirements-extras.txt
fi

# Rebuilt only when a C++ source or the build description is newer than the
# built extension (pip install -e recompiles everything).
native="envlogger/_native$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
if [ -x .venv/bin/envlogger ] && [ -f "$native" ] && [ -z "$(find envlogger setup.py pyproject.toml \
    \( -name '*.cc' -o -name '*.h' -o -name setup.py -o -name pyproject.toml \) -newer "$native" \
    -print -quit)" ]; then
  echo "==> envlogger is installed in .venv (editable) and $native is up to date"
else
  echo "==> pip install -e . (builds envlogger._native in place)"
  ENVLOGGER_BUILD_JOBS="$(nproc)" .venv/bin/python -m pip install -q --no-build-isolation --no-deps \
    --disable-pip-version-check -e . \
    || { echo "building envlogger failed (see above)" >&2; exit 1; }
fi
(venv_python="$PWD/.venv/bin/python" && cd / && "$venv_python" -c "import envlogger._native") \
  || { echo "envlogger._native does not import from outside the source tree" >&2; exit 1; }
[ -x .venv/bin/envlogger ] || { echo "the envlogger command is missing from .venv/bin" >&2; exit 1; }
