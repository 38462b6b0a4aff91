"""Convention-driven targets for envlogger packages.

An envlogger package's BUILD file calls envlogger_package() once; the targets
follow from the file names, the same conventions as CMakeLists.txt and
setup.py, so adding a file needs no BUILD edit:

  *.cc, *.h                 -> cc_library named after the package directory
                               (e.g. //envlogger/riegeli), minus the files below
  CXX_ONLY_SRCS (*.cc)      -> one cc_library each, named after the file, linked
                               with GMP; kept out of the Python extension
  *_test.cc                 -> one cc_test each, with gtest_main and the fixtures
                               (//envlogger:testdata) as runfiles
  *_benchmark.cc, *_main.cc -> one cc_binary each (fixtures as runfiles)
  python/*.cc, python/*.h   -> cc_library "python_bindings" (alwayslink), linked
                               into //envlogger:_native.so
  *.py, python/*.py         -> py_library "py"
  *_test.py, python/*_test.py
                            -> one py_test each, run by pytest (see
                               pytest_runner.py); named after the file, with a
                               "_py" suffix if a *_test.cc has the same name

Cross-package C++ dependencies cannot be read off file names, so each BUILD
file declares them (cc_deps), following the layering
base <- testing <- riegeli <- converters <- backends/cc <- python bindings.
"""

# Must match CXX_ONLY in setup.py: sources for C++ users only (they need GMP).
CXX_ONLY_SRCS = ["typed_codec.cc"]

_TESTING = "//envlogger/testing"
_PYTEST_RUNNER = "//third_party/bazel:pytest_runner.py"

def _stem(path):
    return path[:-len(".cc")] if path.endswith(".cc") else path[:-len(".py")]

def envlogger_py_tests(cc_test_names = [], data = []):
    """One py_test per *_test.py (and python/*_test.py) of this package.

    Every test sees the whole envlogger Python package (//envlogger), the
    compiled extension and the fixtures in its runfiles, and is run by pytest.

    Args:
      cc_test_names: names already taken by cc_test targets in this package.
      data: more runfiles for every test (e.g. programs the tests run).
    """
    for src in native.glob(["*_test.py", "python/*_test.py"]):
        name = _stem(src)
        if name in cc_test_names:
            name += "_py"
        native.py_test(
            name = name,
            srcs = [src, _PYTEST_RUNNER],
            main = _PYTEST_RUNNER,
            # The test's path from the workspace root (the test's working
            # directory): what the runner hands to pytest.
            args = [native.package_name() + "/" + src],
            data = ["//envlogger:testdata"] + data,
            legacy_create_init = False,
            python_version = "PY3",
            srcs_version = "PY3",
            deps = ["//envlogger"],
        )

def envlogger_package(cc_deps = []):
    """Declares every target of the calling envlogger package (see above).

    Args:
      cc_deps: C++ libraries (other packages, //third_party wrappers) that this
        package's sources, including its python/ bindings, include or link.
    """
    pkg = native.package_name()
    name = pkg.split("/")[-1]

    all_cc = native.glob(["*.cc"])
    tests = [f for f in all_cc if f.endswith("_test.cc")]
    binaries = [f for f in all_cc if f.endswith("_benchmark.cc") or f.endswith("_main.cc")]
    cxx_only = [f for f in all_cc if f in CXX_ONLY_SRCS]
    core = [f for f in all_cc if f not in tests and f not in binaries and f not in cxx_only]

    native.cc_library(
        name = name,
        srcs = core,
        hdrs = native.glob(["*.h"]),
        deps = cc_deps,
        visibility = ["//visibility:public"],
    )

    cxx_only_libs = []
    for src in cxx_only:
        native.cc_library(
            name = _stem(src),
            srcs = [src],
            deps = [":" + name, "//third_party:gmp"],
            visibility = ["//visibility:public"],
        )
        cxx_only_libs.append(":" + _stem(src))

    testing = [] if pkg == "envlogger/testing" else [_TESTING]
    for src in tests:
        native.cc_test(
            name = _stem(src),
            srcs = [src],
            data = ["//envlogger:testdata"],
            deps = [":" + name, "//third_party:gtest_main"] + cxx_only_libs + testing,
        )

    # Benchmarks may read the fixtures too, like the tests.
    for src in binaries:
        native.cc_binary(
            name = _stem(src),
            srcs = [src],
            data = ["//envlogger:testdata"],
            deps = [":" + name] + cxx_only_libs + testing,
        )

    native.cc_library(
        name = "python_bindings",
        srcs = native.glob(["python/*.cc"]),
        hdrs = native.glob(["python/*.h"]),
        copts = ["-fvisibility=hidden"],
        deps = [
            ":" + name,
            "//envlogger:python_register",
            "//third_party:numpy_headers",
            "//third_party:pybind11",
        ] + cc_deps,
        alwayslink = 1,
        visibility = ["//envlogger:__pkg__"],
    )

    native.py_library(
        name = "py",
        srcs = native.glob(["*.py", "python/*.py"], exclude = ["*_test.py", "python/*_test.py"]),
        data = native.glob(["*.proto", "*.pyi", "python/*.pyi"]),
        srcs_version = "PY3",
        visibility = ["//visibility:public"],
    )

    envlogger_py_tests(cc_test_names = [_stem(f) for f in tests])
