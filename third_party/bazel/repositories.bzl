"""The external repositories of the workspace, all local: nothing is downloaded.

envlogger_repositories(), called from WORKSPACE, declares them as repository
rules that look at the machine when Bazel first needs them (as pybind11_bazel's
python_configure does), so a fresh clone builds with a plain
`bazel test //envlogger/...` and no configure step:

  remote_coverage_tools  stub filegroups every *_test implicitly depends on
  rules_cc, rules_java   .bzl files forwarding to the native rules
  rules_proto            Debian's bazel-rules-proto (/usr/share/bazel/rules/proto)
  com_google_protobuf    the system protoc and -lprotobuf, for proto_library
  local_config_python    the Python toolchain (py_runtime at the interpreter)
                         and the Python, pybind11 and numpy C headers of it

The interpreter is $ENVLOGGER_PYTHON, else the workspace's .venv/bin/python
(scripts/setup.sh makes it), else python3 on PATH. Bazel re-runs the Python
rule when $ENVLOGGER_PYTHON changes; after changing .venv, run
`bazel sync --configure`.
"""

_RULES_PROTO_DIR = "/usr/share/bazel/rules/proto"

def _fail(what, remedy):
    fail("envlogger: %s (%s)" % (what, remedy))

def _forwarding_rules_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "")
    ctx.file(ctx.attr.package + "/BUILD", "")
    lines = ['"""Offline stand-in for %s: every rule is the native one."""' % ctx.name]
    for rule in ctx.attr.rules:
        lines.append("\ndef %s(**kwargs):\n    native.%s(**kwargs)" % (rule, rule))
    ctx.file(ctx.attr.package + "/defs.bzl", "\n".join(lines) + "\n")

_forwarding_rules = repository_rule(
    implementation = _forwarding_rules_impl,
    attrs = {
        "package": attr.string(mandatory = True),
        "rules": attr.string_list(mandatory = True),
    },
)

def _coverage_tools_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
""")

_coverage_tools = repository_rule(implementation = _coverage_tools_impl)

def _rules_proto_impl(ctx):
    source = ctx.path(_RULES_PROTO_DIR)
    if not source.get_child("proto").get_child("defs.bzl").exists:
        _fail("rules_proto not found in " + _RULES_PROTO_DIR, "apt-get install bazel-rules-proto")
    for entry in source.readdir():
        ctx.symlink(entry, entry.basename)

_rules_proto = repository_rule(implementation = _rules_proto_impl, local = True)

def _system_protobuf_impl(ctx):
    protoc = ctx.which("protoc")
    if not protoc:
        _fail("protoc not found on PATH", "apt-get install protobuf-compiler libprotobuf-dev")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.symlink(protoc, "protoc")
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

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
""")

_system_protobuf = repository_rule(implementation = _system_protobuf_impl, local = True)

_PYTHON_QUERY = """
import sys, sysconfig
print(sys.executable)
print(sysconfig.get_paths()["include"])
try:
    import numpy
    print(numpy.get_include())
except ImportError:
    print("")
try:
    import pybind11
    print(pybind11.get_include())
except ImportError:
    print("")
"""

def _version_at_least(version, major, minor):
    parts = version.split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return (int(parts[0]), int(parts[1])) >= (major, minor)

def _bazel_version(ctx):
    """The running Bazel's version; Debian's build reports none, its package does."""
    version = ctx.attr.bazel_version
    if _version_at_least(version, 0, 0) == None:
        result = ctx.execute(["dpkg-query", "-W", "-f=${Version}", "bazel-bootstrap"])
        version = result.stdout.strip() if result.return_code == 0 else ""
    return version

def _local_python_impl(ctx):
    workspace = ctx.path(Label("//third_party/bazel:repositories.bzl")).dirname.dirname.dirname
    python = ctx.os.environ.get("ENVLOGGER_PYTHON", "")
    if not python:
        venv = workspace.get_child(".venv").get_child("bin").get_child("python")
        python = str(venv) if venv.exists else ctx.which("python3")
    if not python:
        _fail("no Python interpreter", "run scripts/setup.sh, or set ENVLOGGER_PYTHON")
    result = ctx.execute([python, "-c", _PYTHON_QUERY])
    if result.return_code != 0:
        _fail("cannot run Python interpreter %s: %s" % (python, result.stderr), "set ENVLOGGER_PYTHON")
    executable, python_include, numpy_include, pybind11_include = result.stdout.strip("\n").split("\n")
    if not ctx.path(python_include + "/Python.h").exists:
        _fail("no Python.h in " + python_include, "install the python3-dev package for " + executable)
    if not numpy_include:
        _fail("numpy is not installed for " + executable, "pip install numpy")
    if not pybind11_include and ctx.path("/usr/include/pybind11/pybind11.h").exists:
        pybind11_include = "/usr/include"
    if not pybind11_include:
        _fail("pybind11 headers not found", "pip install pybind11, or apt-get install pybind11-dev")

    # Bazel 4.1 added py_runtime.stub_shebang; before it, the py_binary stub
    # starts with "#!/usr/bin/env python", so `python` must be on PATH.
    version = _bazel_version(ctx)
    stub_shebang = _version_at_least(version, 4, 1)
    if stub_shebang == None:
        _fail("cannot tell the version of this Bazel (%r)" % version, "use Bazel 3.7.2 or 4.2.3")
    if not stub_shebang and not ctx.which("python"):
        _fail("Bazel %s starts Python tests with 'python' from PATH, and there is none" % version,
              "put a python on PATH, or use Bazel 4.2.3")

    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.symlink(python_include, "python_include/python")
    ctx.symlink(pybind11_include + "/pybind11", "pybind11_include/pybind11")
    ctx.symlink(numpy_include + "/numpy", "numpy_include/numpy")
    ctx.template("BUILD", ctx.attr._build_template, {
        "%{interpreter}": executable,
        "%{stub_shebang}": ('    stub_shebang = "#!%s",' % executable) if stub_shebang else "",
        "%{bazel}": version,
    })

_local_python = repository_rule(
    implementation = _local_python_impl,
    attrs = {
        "bazel_version": attr.string(),
        "_build_template": attr.label(default = Label("//third_party/bazel:local_python.BUILD.tpl")),
    },
    environ = ["ENVLOGGER_PYTHON", "PATH"],
    local = True,
    configure = True,
)

def envlogger_repositories():
    """Declares every external repository of the workspace (see above)."""
    _coverage_tools(name = "remote_coverage_tools")
    _forwarding_rules(
        name = "rules_cc",
        package = "cc",
        rules = [
            "cc_binary",
            "cc_library",
            "cc_test",
            "cc_import",
            "cc_proto_library",
            "cc_toolchain",
            "cc_toolchain_suite",
            "objc_library",
            "objc_import",
            "fdo_profile",
            "fdo_prefetch_hints",
        ],
    )
    _forwarding_rules(
        name = "rules_java",
        package = "java",
        rules = [
            "java_binary",
            "java_library",
            "java_test",
            "java_import",
            "java_plugin",
            "java_proto_library",
            "java_lite_proto_library",
            "java_runtime",
            "java_toolchain",
            "java_package_configuration",
        ],
    )
    _rules_proto(name = "rules_proto")
    _system_protobuf(name = "com_google_protobuf")
    _local_python(name = "local_config_python", bazel_version = native.bazel_version)
