# Written by local_config_python (third_party/bazel/repositories.bzl) for
# %{interpreter}, Bazel %{bazel}.
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "python3_runtime",
    interpreter_path = "%{interpreter}",
    python_version = "PY3",
%{stub_shebang}
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

# numpy's C API of the interpreter's numpy, as <numpy/arrayobject.h>.
cc_library(
    name = "numpy_headers",
    hdrs = glob(["numpy_include/numpy/**/*.h"]),
    includes = ["numpy_include"],
    deps = [":python_headers"],
)
