#!/usr/bin/env bash
# Inside the Python-only image (docker/Dockerfile.python), offline: checks that
# the image has no compiler, no Python headers and no brotli/zstd/snappy
# library, installs the wheel given into a fresh venv from the wheels mounted
# at /wheels and /deps only, then records and reads Catch with it
# (scripts/wheel_smoke.py) and runs `envlogger verify` on the result.
#
#   test_wheel_in_container.sh WHEEL_FILE_NAME
set -euo pipefail
wheel="/wheels/$1"

for tool in cc gcc g++ c++ clang; do
  if command -v "$tool" >/dev/null; then echo "FAIL: the image has a compiler: $tool" >&2; exit 1; fi
done
if ldconfig -p | grep -E 'lib(brotli|zstd|snappy)'; then
  echo "FAIL: the image has a compression library (above)" >&2; exit 1
fi
if python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  echo "FAIL: the image has Python.h" >&2; exit 1
fi
echo "image: $(python3 --version), no compiler, no Python.h, no brotli/zstd/snappy library"

python3 -m venv /tmp/venv
/tmp/venv/bin/pip install -q --no-index --find-links /deps "$wheel"
cd /tmp
/tmp/venv/bin/python /src/scripts/wheel_smoke.py /tmp/catch
/tmp/venv/bin/envlogger verify /tmp/catch
