#!/usr/bin/env bash
# Writes the local repositories that let Bazel (3.7.2 release or Debian's
# bazel-bootstrap 4.2.3) build this workspace with no download at all, into
# third_party/bazel_stubs/generated/ (git-ignored; WORKSPACE points there):
#
#   remote_coverage_tools  stub filegroups every *_test implicitly depends on
#   rules_cc, rules_java   .bzl files forwarding to the native rules
#   rules_proto            Debian's bazel-rules-proto (/usr/share/bazel/rules/proto)
#   com_google_protobuf    the system protoc and -lprotobuf, for proto_library
#   local_config_python    the Python toolchain (py_runtime at the real
#                          interpreter), Python headers and pybind11 headers
#                          of that interpreter
#
# Run it again whenever the Python interpreter changes:
#   third_party/bazel/configure.sh [--python /path/to/python3]
# The interpreter is, in order: --python, $ENVLOGGER_PYTHON, python3 on PATH.
# It must have pybind11 installed (pip) unless /usr/include/pybind11 exists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/third_party/bazel_stubs/generated"
PYTHON="${ENVLOGGER_PYTHON:-python3}"
RULES_PROTO_DIR="${RULES_PROTO_DIR:-/usr/share/bazel/rules/proto}"

while (($#)); do
  case "$1" in
    --python) PYTHON="$2"; shift 2 ;;
    *) echo "configure.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

die() { echo "configure.sh: $*" >&2; exit 1; }

PYTHON_BIN="$("$PYTHON" -c 'import sys; print(sys.executable)')" \
  || die "cannot run Python interpreter '$PYTHON'"
PYTHON_INCLUDE="$("$PYTHON_BIN" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
[[ -f "$PYTHON_INCLUDE/Python.h" ]] \
  || die "no Python.h in $PYTHON_INCLUDE (install the python3-dev package for $PYTHON_BIN)"
PYBIND11_INCLUDE="$("$PYTHON_BIN" -c 'import pybind11; print(pybind11.get_include())' 2>/dev/null || true)"
if [[ -z "$PYBIND11_INCLUDE" && -f /usr/include/pybind11/pybind11.h ]]; then
  PYBIND11_INCLUDE=/usr/include
fi
[[ -f "$PYBIND11_INCLUDE/pybind11/pybind11.h" ]] \
  || die "pybind11 headers not found (pip install pybind11, or apt-get install pybind11-dev)"
PROTOC="$(command -v protoc || true)"
[[ -n "$PROTOC" ]] || die "protoc not found (apt-get install protobuf-compiler)"
[[ -f "$RULES_PROTO_DIR/proto/defs.bzl" ]] \
  || die "rules_proto not found in $RULES_PROTO_DIR (apt-get install bazel-rules-proto)"

rm -rf "$OUT"
mkdir -p "$OUT"

# --- remote_coverage_tools: only referenced, never run (no coverage runs here).
d="$OUT/remote_coverage_tools"
mkdir -p "$d"
echo 'workspace(name = "remote_coverage_tools")' >"$d/WORKSPACE"
cat >"$d/BUILD" <<'BUILD'
package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
BUILD

# --- rules_cc / rules_java: @bazel_tools loads their defs.bzl; forward to native.
d="$OUT/rules_cc"
mkdir -p "$d/cc"
echo 'workspace(name = "rules_cc")' >"$d/WORKSPACE"
: >"$d/BUILD"
: >"$d/cc/BUILD"
{
  echo '"""Offline stand-in for rules_cc: every rule is the native one."""'
  for rule in cc_binary cc_library cc_test cc_import cc_proto_library cc_toolchain \
      cc_toolchain_suite objc_library objc_import fdo_profile fdo_prefetch_hints; do
    printf '\ndef %s(**kwargs):\n    native.%s(**kwargs)\n' "$rule" "$rule"
  done
} >"$d/cc/defs.bzl"

d="$OUT/rules_java"
mkdir -p "$d/java"
echo 'workspace(name = "rules_java")' >"$d/WORKSPACE"
: >"$d/BUILD"
: >"$d/java/BUILD"
{
  echo '"""Offline stand-in for rules_java: every rule is the native one."""'
  for rule in java_binary java_library java_test java_import java_plugin \
      java_proto_library java_lite_proto_library java_runtime java_toolchain \
      java_package_configuration; do
    printf '\ndef %s(**kwargs):\n    native.%s(**kwargs)\n' "$rule" "$rule"
  done
} >"$d/java/defs.bzl"

# --- rules_proto: Debian's copy, linked in place.
ln -s "$RULES_PROTO_DIR" "$OUT/rules_proto"

# --- com_google_protobuf: the system compiler and runtime library.
d="$OUT/com_google_protobuf"
mkdir -p "$d"
echo 'workspace(name = "com_google_protobuf")' >"$d/WORKSPACE"
ln -s "$PROTOC" "$d/protoc"
cat >"$d/BUILD" <<'BUILD'
package(default_visibility = ["//visibility:public"])

# The system protoc (protobuf-compiler); native proto_library runs it.
exports_files(["protoc"])

alias(
    name = "protoc_bin",
    actual = ":protoc",
)

# The system C++ runtime (libprotobuf-dev); headers are in /usr/include.
cc_library(
    name = "protobuf",
    linkopts = ["-lprotobuf", "-lpthread"],
)

cc_library(
    name = "protobuf_lite",
    linkopts = ["-lprotobuf-lite", "-lpthread"],
)

proto_lang_toolchain(
    name = "cc_toolchain",
    command_line = "--cpp_out=$(OUT)",
    runtime = ":protobuf",
)
BUILD

# --- local_config_python: toolchain and headers of the chosen interpreter.
d="$OUT/local_config_python"
mkdir -p "$d/python_include" "$d/pybind11_include"
echo 'workspace(name = "local_config_python")' >"$d/WORKSPACE"
ln -s "$PYTHON_INCLUDE" "$d/python_include/python"
ln -s "$PYBIND11_INCLUDE/pybind11" "$d/pybind11_include/pybind11"
cat >"$d/BUILD" <<BUILD
# Generated by third_party/bazel/configure.sh for $PYTHON_BIN.
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "python3_runtime",
    interpreter_path = "$PYTHON_BIN",
    python_version = "PY3",
    stub_shebang = "#!$PYTHON_BIN",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":python3_runtime",
)

toolchain(
    name = "py_toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

# Python.h and friends, as <Python.h>.
cc_library(
    name = "python_headers",
    hdrs = glob(["python_include/python/**/*.h"]),
    includes = ["python_include/python"],
)

# pybind11, as <pybind11/pybind11.h>.
cc_library(
    name = "pybind11",
    hdrs = glob(["pybind11_include/pybind11/**/*.h"]),
    includes = ["pybind11_include"],
    deps = [":python_headers"],
)
BUILD

echo "configure.sh: wrote $OUT for $PYTHON_BIN (Python headers $PYTHON_INCLUDE, pybind11 $PYBIND11_INCLUDE)"
