"""Builds envlogger: the Python package plus one C++ extension, envlogger._native.

The extension compiles every C++ source of the core (see CMakeLists.txt for the
naming conventions) together with the pybind11 bindings under */python/, and
links the system compression libraries (Debian/Ubuntu: libbrotli-dev,
libzstd-dev, libsnappy-dev). GMP is not needed: only the C++-only typed
decoder uses it, and it is not part of the Python extension. Before compiling,
the build checks that the compiler finds those libraries' headers and names
the packages to install if not (the wheels of scripts/build_wheels.sh carry
the libraries and need none of this).
"""

import os
import pathlib
import tempfile
from typing import Dict, List

import numpy
from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
import setuptools
from setuptools.errors import CompileError, PlatformError

ROOT = pathlib.Path(__file__).parent.resolve()

# C++ sources that are for C++ users only (they need GMP) and stay out of the
# Python extension.
CXX_ONLY = {'typed_codec.cc'}


def _native_sources() -> list[str]:
  sources = []
  for path in sorted((ROOT / 'envlogger').rglob('*.cc')):
    rel = path.relative_to(ROOT).as_posix()
    name = path.name
    if '/fuzz/' in rel or name in CXX_ONLY:
      continue
    if name.endswith(('_test.cc', '_benchmark.cc', '_main.cc')):
      continue
    sources.append(rel)
  return sources


# A header of each system library the extension needs, and the Debian/Ubuntu
# package that provides it.
SYSTEM_HEADERS = {
  'Python.h': 'python3-dev',
  'brotli/encode.h': 'libbrotli-dev',
  'zstd.h': 'libzstd-dev',
  'snappy-sinksource.h': 'libsnappy-dev',
}


def missing_packages(compiler, headers: Dict[str, str]) -> List[str]:
  """The packages of `headers` (header -> package) whose header does not compile.

  Raises PlatformError if the compiler cannot compile an empty C++ file.
  """
  with tempfile.TemporaryDirectory() as tmp:

    def compiles(name: str, text: str) -> bool:
      source = os.path.join(tmp, name + '.cc')
      with open(source, 'w') as f:
        f.write(text)
      try:
        compiler.compile([source], output_dir=tmp, extra_postargs=['-std=c++17'])
      except CompileError:
        return False
      return True

    if not compiles('empty', ''):
      raise PlatformError(
        'no working C++ compiler. Install one, e.g. on Debian/Ubuntu: '
        'sudo apt-get install build-essential'
      )
    return [
      package
      for i, (header, package) in enumerate(headers.items())
      if not compiles(f'header{i}', f'#include <{header}>\n')
    ]


def missing_packages_message(packages: List[str]) -> str:
  return (
    f'envlogger needs the headers of {", ".join(packages)} to build from source. Install '
    f'them (Debian/Ubuntu: sudo apt-get install {" ".join(packages)}) and try again, or '
    f'install a wheel built by scripts/build_wheels.sh, which needs none of them.'
  )


class BuildExt(build_ext):
  """build_ext that names the missing system packages instead of a compiler error."""

  def build_extensions(self):
    missing = missing_packages(self.compiler, SYSTEM_HEADERS)
    if missing:
      raise PlatformError(missing_packages_message(missing))
    super().build_extensions()


if __name__ == '__main__':  # not when setup_test.py imports it
  ParallelCompile('ENVLOGGER_BUILD_JOBS', default=0).install()

  setuptools.setup(
    ext_modules=[
      Pybind11Extension(
        'envlogger._native',
        sources=_native_sources(),
        # numpy's C API: the native codec reads/writes array buffers directly.
        include_dirs=[str(ROOT), numpy.get_include()],
        libraries=['brotlienc', 'brotlidec', 'zstd', 'snappy'],
        cxx_std=17,
        extra_compile_args=['-O2', '-fvisibility=hidden'],
      )
    ],
    cmdclass={'build_ext': BuildExt},
  )
