"""Entry point of every envlogger py_test: runs one test file under pytest.

Bazel runs this script with the test file's workspace-relative path as the
only argument (see envlogger_py_tests in envlogger.bzl), from the root of the
runfiles tree, where the envlogger package and envlogger/_native.so are laid
out as in the source tree. pytest's exit status becomes the test's.

Bazel has no "skipped" state for a test target: a file whose tests were all
skipped (say, for lack of an optional dependency) passes. So that it is not
counted as passing, the runner then prints ALL_SKIPPED_MARKER into the test
log; docker/test_in_container.sh counts such targets as skipped.
"""

import os
import sys

import pytest

ALL_SKIPPED_MARKER = 'ENVLOGGER-PYTEST-ALL-SKIPPED'


class _OutcomeCounter:
  """pytest plugin counting test outcomes (a test counts once, at its first
  non-passing phase or at its call phase)."""

  def __init__(self) -> None:
    self.passed = 0
    self.skipped = 0
    self.failed = 0

  def pytest_collectreport(self, report: pytest.CollectReport) -> None:
    if report.skipped:  # A whole file skipped (envlogger.testing.extras_plugin).
      self.skipped += 1

  def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
    if report.skipped:
      self.skipped += 1
    elif report.failed:
      self.failed += 1
    elif report.when == 'call':
      self.passed += 1


def _make_hypothesis_deterministic() -> None:
  """Bazel caches test results, so a test must decide the same way every run:
  Hypothesis draws the same examples each time, with no per-example deadline
  (as the repository's conftest.py does under CI)."""
  try:
    import hypothesis  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  hypothesis.settings.register_profile('bazel', derandomize=True, deadline=None)
  hypothesis.settings.load_profile('bazel')


def main(argv: list[str]) -> int:
  """Runs pytest on argv[1]; returns pytest's exit code."""
  if len(argv) != 2:
    print(f'usage: {argv[0]} TEST_FILE', file=sys.stderr)
    return 2
  test_file = argv[1]
  # The runfiles tree is read-only in spirit: keep caches and Hypothesis's
  # example database in the test's private temporary directory.
  tmpdir = os.environ.get('TEST_TMPDIR')
  if tmpdir:
    os.environ.setdefault('HYPOTHESIS_STORAGE_DIRECTORY', os.path.join(tmpdir, 'hypothesis'))
  # The working directory is the workspace root in the runfiles tree: make it
  # pytest's rootdir so conftest.py files above the test's directory apply.
  root = os.getcwd()
  _make_hypothesis_deterministic()
  args = [
    test_file,
    f'--rootdir={root}',
    f'--confcutdir={root}',
    '-p',
    'no:cacheprovider',
    '-q',
    '-rfEs',
    '-p',
    'envlogger.testing.extras_plugin',
  ]
  xml_output = os.environ.get('XML_OUTPUT_FILE')
  if xml_output:
    args.append(f'--junitxml={xml_output}')
  counter = _OutcomeCounter()
  # A file without tests exits with 5 (NO_TESTS_COLLECTED), so a py_test
  # that ran nothing fails.
  code = int(pytest.main(args, plugins=[counter]))
  if code == pytest.ExitCode.NO_TESTS_COLLECTED and counter.skipped > 0 and counter.failed == 0:
    code = 0  # The file was skipped as a whole; reported by the marker below.
  if code == 0 and counter.passed == 0 and counter.skipped > 0:
    print(f'{ALL_SKIPPED_MARKER}: all {counter.skipped} tests of {test_file} were skipped')
  return code


if __name__ == '__main__':
  sys.exit(main(sys.argv))
