"""Entry point of every envlogger py_test: runs one test file under pytest.

Bazel runs this script with the test file's workspace-relative path as the
only argument (see envlogger_py_tests in envlogger.bzl), from the root of the
runfiles tree, where the envlogger package and envlogger/_native.so are laid
out as in the source tree. pytest's exit status becomes the test's.
"""

import os
import sys

import pytest


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
  args = [test_file, f'--rootdir={root}', f'--confcutdir={root}', '-p', 'no:cacheprovider', '-q', '-rs']
  xml_output = os.environ.get('XML_OUTPUT_FILE')
  if xml_output:
    args.append(f'--junitxml={xml_output}')
  # A file without tests exits with 5 (NO_TESTS_COLLECTED), so a py_test
  # that ran nothing fails.
  return int(pytest.main(args))


if __name__ == '__main__':
  sys.exit(main(sys.argv))
