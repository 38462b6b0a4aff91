"""Builds envlogger: the Python package plus one C++ extension, envlogger._native.

The extension compiles every C++ source of the core (see CMakeLists.txt for the
naming conventions) together with the pybind11 bindings under */python/, and
links the system compression libraries (Debian/Ubuntu: libbrotli-dev,
libzstd-dev, libsnappy-dev). GMP is not needed: only the C++-only typed
decoder uses it, and it is not part of the Python extension.
"""

import pathlib

import numpy
from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
import setuptools

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
    cmdclass={'build_ext': build_ext},
)
