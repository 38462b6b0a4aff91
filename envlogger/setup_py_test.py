"""Tests the system-library check of setup.py (at the root of the source tree).

`pip install .` on a machine without the compression libraries' headers must
end in a message naming the packages to install, not in a compiler error.
"""

import importlib.util
import pathlib
import sysconfig

import pytest
import setuptools  # pylint: disable=unused-import  (provides distutils on 3.12+)
from distutils import ccompiler  # pylint: disable=g-import-not-at-top,wrong-import-order
from distutils import sysconfig as distutils_sysconfig  # pylint: disable=wrong-import-order

_SETUP_PY = pathlib.Path(__file__).resolve().parent.parent / 'setup.py'


@pytest.fixture(scope='module')
def setup_module():
  spec = importlib.util.spec_from_file_location('envlogger_setup', _SETUP_PY)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)  # defines, but does not run setup()
  return module


@pytest.fixture(scope='module')
def compiler():
  compiler = ccompiler.new_compiler()
  distutils_sysconfig.customize_compiler(compiler)
  compiler.add_include_dir(sysconfig.get_paths()['include'])
  return compiler


def test_names_the_packages_whose_headers_are_missing(setup_module, compiler):
  headers = {
    'envlogger_no_such_header.h': 'libenvlogger-nosuch-dev',
    'zstd.h': 'libzstd-dev',
    'envlogger/no_such_either.h': 'libother-dev',
  }
  missing = setup_module.missing_packages(compiler, headers)
  assert missing == ['libenvlogger-nosuch-dev', 'libother-dev']
  message = setup_module.missing_packages_message(missing)
  assert 'sudo apt-get install libenvlogger-nosuch-dev libother-dev' in message


def test_the_headers_of_this_machine_are_found(setup_module, compiler):
  # The test machines have the build dependencies (scripts/setup.sh).
  assert setup_module.missing_packages(compiler, setup_module.SYSTEM_HEADERS) == []
  assert set(setup_module.SYSTEM_HEADERS.values()) == {
    'python3-dev',
    'libbrotli-dev',
    'libzstd-dev',
    'libsnappy-dev',
  }


def test_a_compiler_that_cannot_compile_is_reported(setup_module, compiler, tmp_path):
  broken = ccompiler.new_compiler()
  distutils_sysconfig.customize_compiler(broken)
  missing_tool = str(tmp_path / 'no-such-compiler')
  # compiler_so_cxx compiles C++ in newer setuptools; older ones use compiler_so.
  broken.set_executables(
    **{name: missing_tool for name in ('compiler_so', 'compiler_so_cxx') if hasattr(broken, name)}
  )
  with pytest.raises(setuptools.errors.PlatformError, match='build-essential'):
    setup_module.missing_packages(broken, {'zstd.h': 'libzstd-dev'})
