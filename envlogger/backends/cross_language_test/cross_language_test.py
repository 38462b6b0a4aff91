"""Python writes a dataset, C++ reads it back and checks every value.

`py_writer` (Python, `envlogger.RiegeliBackendWriter`) writes one episode;
`cc_reader_main` (C++, `RiegeliDatasetReader` + the typed decoder with GMP
bigints) recomputes every expected value itself and compares. The negative
controls make the writer deviate on purpose and check that the reader fails
naming the field, so this test is able to fail.

Where the `cc_reader_main` binary comes from, in order:
* `$ENVLOGGER_CC_READER` (set by ctest, see CMakeLists.txt): used as is, a
  missing file fails the test;
* under Bazel (`$TEST_SRCDIR` set): the one in the runfiles, a data
  dependency of this test (see BUILD); missing, it fails the test;
* `build/cc` of this source tree, if CMake configured it: brought up to date
  with `cmake --build build/cc --target cc_reader_main` first;
* otherwise the tests are skipped, saying so; ctest and Bazel run them with
  the binary (`scripts/test.sh ctest bazel`).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

from absl.testing import absltest
from absl.testing import parameterized

CC_READER_ENV = 'ENVLOGGER_CC_READER'
_NUM_STEPS = 100
# Run as a program, not imported: its absl flags would clash with other
# modules' flags of the same name in one pytest process.
_PY_WRITER = 'envlogger.backends.cross_language_test.py_writer'
# py_writer.BIGINT: the first step's custom_data['bigint'].
_BIGINT = 123456789012345678901234567890
_PACKAGE_DIR = os.path.join('envlogger', 'backends', 'cross_language_test')


def _root() -> str:
  """The directory holding envlogger/ (with its extension) that py_writer imports.

  Under Bazel, the runfiles tree (its files are symlinks into the source
  tree, which may lack the extension); otherwise the source tree.
  """
  if 'TEST_SRCDIR' in os.environ:
    return os.path.join(os.environ['TEST_SRCDIR'], os.environ['TEST_WORKSPACE'])
  return os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  )


_ROOT = _root()
_TIMEOUT_S = 300
# Rebuilding a stale core library on a busy 2-core machine takes minutes.
_BUILD_TIMEOUT_S = 1800


def _cc_reader_from_cmake() -> Optional[str]:
  """Builds cc_reader_main in build/cc if CMake configured it; its path or None."""
  build_dir = os.path.join(_ROOT, 'build', 'cc')
  if not os.path.isfile(os.path.join(build_dir, 'CMakeCache.txt')):
    return None
  built = subprocess.run(
    ['cmake', '--build', build_dir, '--target', 'cc_reader_main', '-j2'],
    capture_output=True,
    text=True,
    timeout=_BUILD_TIMEOUT_S,
  )
  if built.returncode != 0:
    raise RuntimeError(
      f'Building cc_reader_main in {build_dir} failed:\n{built.stdout[-4000:]}{built.stderr[-4000:]}'
    )
  return os.path.join(build_dir, 'cc_reader_main')


def _cc_reader() -> str:
  """The cc_reader_main binary to run (see the module docstring)."""
  path = os.environ.get(CC_READER_ENV)
  if path:
    if not os.path.isfile(path):
      raise FileNotFoundError(f'${CC_READER_ENV}={path} does not exist')
    return os.path.abspath(path)
  if 'TEST_SRCDIR' in os.environ:
    path = os.path.join(_ROOT, _PACKAGE_DIR, 'cc_reader_main')
    if not os.path.isfile(path):
      raise FileNotFoundError(f'{path} is missing from the runfiles: a data dependency in BUILD?')
    return path
  path = _cc_reader_from_cmake()
  if path is None:
    raise absltest.SkipTest(
      f'cc_reader_main is not built: set ${CC_READER_ENV} or configure build/cc with CMake; '
      'ctest and Bazel run this test with the binary'
    )
  return path


class CrossLanguageTest(parameterized.TestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.cc_reader = _cc_reader()

  def _write(self, *flags: str) -> str:
    """Runs py_writer into a fresh directory with `flags`; returns the directory."""
    tmp = tempfile.mkdtemp(dir=os.environ.get('TEST_TMPDIR'))  # Bazel's, else the system's.
    self.addCleanup(shutil.rmtree, tmp)
    directory = os.path.join(tmp, 'dataset')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ROOT, os.environ.get('PYTHONPATH', '')]))
    written = subprocess.run(
      [
        sys.executable,
        '-m',
        _PY_WRITER,
        f'--trajectories_dir={directory}',
        f'--num_steps={_NUM_STEPS}',
        *flags,
      ],
      cwd=_ROOT,
      env=env,
      capture_output=True,
      text=True,
      timeout=_TIMEOUT_S,
    )
    self.assertEqual(written.returncode, 0, written.stderr)
    return directory

  def _read(self, directory: str, *flags: str) -> subprocess.CompletedProcess:
    args: List[str] = [self.cc_reader, f'--trajectories_dir={directory}', *flags]
    return subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S)

  def test_py_writer_cc_reader(self):
    directory = self._write()
    result = self._read(directory, f'--num_steps={_NUM_STEPS}')
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertEqual(result.stderr, '')
    # step_type and 3 custom_data ints per step, 3 + 2 in the dataset
    # metadata, 2 in the episode metadata.
    bigints = _NUM_STEPS + 3 * _NUM_STEPS + 3 + 2 + 2
    self.assertEqual(
      result.stdout,
      f'cc_reader: OK: {_NUM_STEPS} steps in 1 episode match, {bigints} GMP bigints compared '
      f'exactly, in {directory}\n',
    )

  @parameterized.named_parameters(
    ('action', '--action_offset=1', 'step 0: action: expected int32 100, got int32 101'),
    (
      'bigint',
      '--bigint_offset=-1',
      f"step 0: custom_data['bigint']: expected mpz {_BIGINT}, got mpz {_BIGINT - 1}",
    ),
  )
  def test_cc_reader_reports_the_first_mismatch(self, writer_flag: str, message: str):
    directory = self._write(writer_flag)
    result = self._read(directory)
    self.assertEqual(result.returncode, 1, result.stdout)
    self.assertEqual(result.stdout, '')
    self.assertEqual(result.stderr, f'cc_reader: MISMATCH in {directory}: {message}\n')

  def test_cc_reader_reports_a_step_count_mismatch(self):
    directory = self._write()
    result = self._read(directory, f'--num_steps={_NUM_STEPS + 1}')
    self.assertEqual(result.returncode, 1, result.stdout)
    self.assertRegex(
      result.stderr, re.escape(f'steps: expected {_NUM_STEPS + 1} steps, got {_NUM_STEPS}')
    )


if __name__ == '__main__':
  absltest.main()
