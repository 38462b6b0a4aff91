"""Tests of what the subcommands share: ranges, JSON values, tables, progress bars."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios

from absl.testing import absltest
import numpy as np

from envlogger.testing import child_env
from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_support
from envlogger.tools import cli_testlib


def _run_in_terminal(*args):
  """Runs `envlogger ARGS` with stdout and stderr on a pseudo-terminal; returns its output."""
  master, slave = pty.openpty()
  # A 24x100 terminal (a fresh pseudo-terminal has 0 columns, where tqdm draws nothing).
  fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 100, 0, 0))
  process = subprocess.Popen(
    [sys.executable, '-m', 'envlogger.tools.cli', *args],
    stdin=subprocess.DEVNULL,
    stdout=slave,
    stderr=slave,
    env=child_env.child_env(),
  )
  os.close(slave)
  chunks = []
  while True:
    ready, _, _ = select.select([master], [], [], 60)
    if not ready:
      break
    try:
      data = os.read(master, 65536)
    except OSError:  # The terminal closed: the process ended.
      break
    if not data:
      break
    chunks.append(data)
  os.close(master)
  return process.wait(timeout=60), b''.join(chunks).decode('utf-8', 'replace')


class CliSupportTest(absltest.TestCase):
  def test_parse_range(self):
    self.assertEqual(cli_support.parse_range('2:5', 10, 'x'), range(2, 5))
    self.assertEqual(cli_support.parse_range(':3', 10, 'x'), range(0, 3))
    self.assertEqual(cli_support.parse_range('-2:', 10, 'x'), range(8, 10))
    self.assertEqual(cli_support.parse_range('-1', 10, 'x'), range(9, 10))
    self.assertEqual(cli_support.parse_range('5:50', 10, 'x'), range(5, 10))
    for bad in ('10', '-11', 'a:b', '1:2:3', ''):
      with self.assertRaises(cli_support.CliError):
        cli_support.parse_range(bad, 10, 'x')

  def test_to_jsonable(self):
    value = {
      1: np.float32(0.5),
      'a': (np.arange(3, dtype=np.int16), b'\xff'),
      'n': float('nan'),
      's': np.array(['x', 'y'], dtype=object),
    }
    self.assertEqual(
      json.loads(json.dumps(cli_support.to_jsonable(value))),
      {'1': 0.5, 'a': [[0, 1, 2], '\\xff'], 'n': 'nan', 's': ['x', 'y']},
    )

  def test_format_table_aligns_numbers_right(self):
    text = cli_support.format_table(['name', 'n'], [['a', 1], ['bbb', 100]])
    self.assertEqual(text.splitlines(), ['name    n', '----  ---', 'a       1', 'bbb   100'])

  def test_summarize(self):
    self.assertEqual(
      cli_support.summarize(np.array([[1, 5], [2, 3]], np.uint8)), 'uint8[2, 2] [1, 5]'
    )
    self.assertEqual(cli_support.summarize({'a': 0.25, 'b': [1, None]}), '{a: 0.25, b: [1, None]}')
    self.assertEqual(cli_support.summarize('x' * 100, width=10), "'xxxxxx...")

  def test_dataset_dirs(self):
    tmp = cli_testlib.temp_dir(self)
    dataset = os.path.join(tmp, 'root', 'b')
    os.makedirs(os.path.join(dataset))
    open(os.path.join(dataset, 'metadata.riegeli'), 'wb').close()
    shard = os.path.join(tmp, 'root', 'a', '20260101T000000000000')  # No metadata: damaged.
    os.makedirs(shard)
    open(os.path.join(shard, 'steps.riegeli'), 'wb').close()
    os.makedirs(os.path.join(tmp, 'root', 'c', 'empty'))  # Neither: not a writer.
    root = os.path.join(tmp, 'root')
    a, b = os.path.join(root, 'a'), os.path.join(root, 'b')
    self.assertEqual(cli_support.dataset_dirs(root), [a, b])
    self.assertEqual(cli_support.dataset_dirs(b), [b])
    self.assertEqual(cli_support.dataset_dirs(os.path.join(root, '*')), [a, b])
    self.assertEqual(cli_support.dataset_dirs(os.path.join(tmp, 'r*')), [a, b])
    empty = os.path.join(root, 'c')
    self.assertEqual(cli_support.dataset_dirs(empty), [empty])  # For the caller to refuse.
    with self.assertRaisesRegex(cli_support.CliError, 'No dataset matches .*/x'):
      cli_support.dataset_dirs(os.path.join(tmp, 'x*'))

  def test_progress_bar_only_on_a_terminal_and_not_when_quiet(self):
    path = os.path.join(upstream_fixtures.DIRECTORY, 'catch_default')
    status, out = _run_in_terminal('stats', path)
    self.assertEqual(status, 0, out)
    self.assertIn('stats:   0%', out)  # tqdm's bar: "stats:   0%|    | 0/200 [...]".
    self.assertIn('/200 [', out)
    status, out = _run_in_terminal('stats', path, '--quiet')
    self.assertEqual(status, 0, out)
    self.assertNotIn('/200 [', out)
    self.assertIn('episode  count', out)
    result = subprocess.run(
      [sys.executable, '-m', 'envlogger.tools.cli', 'stats', path],
      capture_output=True,
      text=True,
      env=child_env.child_env(),
    )
    self.assertEqual(result.returncode, 0)
    self.assertNotIn('/200 [', result.stderr + result.stdout)  # Not a terminal.
    status, out = _run_in_terminal('verify', path)
    self.assertEqual(status, 0, out)
    self.assertIn('0/1 [', out)  # A bar counting the one shard.


if __name__ == '__main__':
  absltest.main()
