"""Checks that the compiled extension envlogger._native loads.

Loading fails if a binding registered in envlogger/python/native_module.cc is
missing from the build (an undefined Register* symbol), which no link step
catches for a Python extension. Runs under every build: an in-place setup.py
build, pip install, and Bazel (where the module is //envlogger:_native.so in
the runfiles tree).
"""

import importlib
import types


def test_extension_imports_with_its_submodules():
  native = importlib.import_module('envlogger._native')
  assert native.__name__ == 'envlogger._native'
  submodules = {
    name: value for name, value in vars(native).items() if isinstance(value, types.ModuleType)
  }
  # native_module.cc registers one submodule per component, riegeli first.
  assert 'riegeli' in submodules, sorted(vars(native))
  for name, submodule in submodules.items():
    assert submodule.__name__ == f'envlogger._native.{name}'
