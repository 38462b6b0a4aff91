"""Tests of the `envlogger` command as a whole: help, and unusable directories."""

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from unittest import mock

from absl.testing import absltest

import envlogger
from envlogger.tools import cli
from envlogger.tools import cli_testlib

_SUBCOMMANDS = (
  'info',
  'stats',
  'plot',
  'video',
  'show',
  'merge',
  'split',
  'filter',
  'verify',
  'recover',
)
# convert (Beam and Minari pipelines) is tested in convert_test.py and minari_convert_test.py.
_LISTED = _SUBCOMMANDS + ('convert',)
_WRITING = ('merge', 'split', 'filter', 'plot', 'video')
# Subcommands that need an optional extra: (its module, the extra).
_EXTRA_OF_COMMAND = {'plot': ('matplotlib', 'viz'), 'video': ('imageio', 'viz')}
# Where an extra is missing (the development container has none), its
# subcommands answer with the extra to install instead
# (test_subcommands_without_their_extra_name_it); the input checks run the others.
_WITHOUT_EXTRA = tuple(
  c for c, (module, _) in _EXTRA_OF_COMMAND.items() if importlib.util.find_spec(module) is None
)
_RUNNABLE = tuple(c for c in _SUBCOMMANDS if c not in _WITHOUT_EXTRA)


def _argv(command: str, data_dir: str, out_dir: str) -> list:
  """Arguments running `command` on `data_dir`, writing (if it does) under `out_dir`."""
  extra = {
    'plot': ['-o', os.path.join(out_dir, 'plot.png')],
    'video': ['-o', os.path.join(out_dir, 'video.gif'), '--field', 'observation'],
    'merge': ['-o', os.path.join(out_dir, f'dst_{command}')],
    'split': ['-o', os.path.join(out_dir, f'dst_{command}'), '--episodes-per-shard', '2'],
    'filter': ['-o', os.path.join(out_dir, f'dst_{command}'), '--where', 'length > 0'],
  }.get(command, [])
  return [command, data_dir, '--quiet'] + extra


class CliTest(absltest.TestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.source = os.path.join(cli_testlib.class_temp_dir(cls), 'catch')
    cli_testlib.record_catch(cls.source, num_episodes=4, max_episodes_per_file=2)

  def setUp(self):
    super().setUp()
    self.tmp = cli_testlib.temp_dir(self)
    self.out = os.path.join(self.tmp, 'out')
    os.mkdir(self.out)

  def test_help_lists_every_subcommand_in_one_line_each(self):
    with mock.patch.dict(os.environ, {'COLUMNS': '80'}):  # argparse wraps to the terminal.
      status, out, _ = cli_testlib.run('--help')
    self.assertEqual(status, 0)
    lines = out.splitlines()
    for command in _LISTED:
      rows = [l for l in lines if l.split()[:1] == [command]]
      self.assertLen(rows, 1, f'{command} in {out}')
      self.assertGreater(len(rows[0].split()), 2, rows[0])  # A description on the same line.
    # No description wraps: the subcommand list has exactly one line per subcommand.
    listed = lines[lines.index('  COMMAND') + 1 : lines.index('options:') - 1]
    self.assertLen(listed, len(_LISTED), out)
    for command in _LISTED:
      status, out, _ = cli_testlib.run(command, '--help')
      self.assertEqual(status, 0, command)
      self.assertIn(f'usage: envlogger {command}', out)

  def test_usage_errors(self):
    self.assertEqual(cli_testlib.run()[0], 2)
    self.assertEqual(cli_testlib.run('frobnicate')[0], 2)
    self.assertEqual(cli_testlib.run('info')[0], 2)
    self.assertEqual(
      cli_testlib.run('split', self.source, '-o', self.out, '--episodes-per-shard', '0')[0], 2
    )

  def test_console_script_entry_point(self):
    result = subprocess.run(
      [
        sys.executable,
        '-c',
        'from envlogger.tools import cli; cli.run()',
        'info',
        self.source,
        '--json',
      ],
      capture_output=True,
      text=True,
    )
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertEqual(json.loads(result.stdout)['num_episodes'], 4)

  def _check_refused(
    self, data_dir: str, expected_in_message: str, commands=_RUNNABLE, status: int = 2
  ):
    before_source = cli_testlib.snapshot(data_dir) if os.path.exists(data_dir) else None
    for command in commands:
      status_found, out, err = cli_testlib.run(*_argv(command, data_dir, self.out))
      self.assertEqual(status_found, status, f'{command}: {out} {err}')
      self.assertIn(expected_in_message, err, command)
      self.assertTrue(err.startswith(f'envlogger {command}: '), err)
      self.assertEqual(os.listdir(self.out), [], f'{command} wrote something')
      if before_source is not None:
        self.assertEqual(cli_testlib.snapshot(data_dir), before_source, command)
      else:
        self.assertFalse(os.path.exists(data_dir))

  def test_subcommands_without_their_extra_name_it(self):
    if not _WITHOUT_EXTRA:
      self.skipTest('every subcommand has its extra installed (the input checks run them all)')
    for command in _WITHOUT_EXTRA:
      status, out, err = cli_testlib.run(*_argv(command, self.source, self.out))
      self.assertEqual(status, 2, f'{command}: {out} {err}')
      self.assertIn(f'pip install envlogger[{_EXTRA_OF_COMMAND[command][1]}]', err, command)
      self.assertEqual(os.listdir(self.out), [], f'{command} wrote something')

  def test_missing_directory(self):
    self._check_refused(os.path.join(self.tmp, 'nope'), 'No such dataset directory')

  def test_a_file_instead_of_a_directory(self):
    path = os.path.join(self.tmp, 'file')
    with open(path, 'w') as f:
      f.write('x')
    self._check_refused(path, 'Not a dataset directory')

  def test_empty_directory(self):
    path = os.path.join(self.tmp, 'empty')
    os.mkdir(path)
    self._check_refused(path, 'not')  # "not a readable ..." / "not an envlogger dataset".
    for command in _RUNNABLE:
      self.assertIn('metadata.riegeli', cli_testlib.run(*_argv(command, path, self.out))[2])

  def test_damaged_dataset(self):
    path = os.path.join(self.tmp, 'damaged')
    shutil.copytree(self.source, path)
    shard = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))[0]
    steps = os.path.join(path, shard, 'steps.riegeli')
    with open(steps, 'r+b') as f:
      data = bytearray(f.read())
      data[len(data) // 2] ^= 0xFF
      f.seek(0)
      f.write(data)
    readers = [c for c in _RUNNABLE if c not in ('verify', 'recover')]
    self._check_refused(path, 'is damaged', readers)
    # verify reports the damage with its own status; nothing changes.
    before = cli_testlib.snapshot(path)
    status, out, _ = cli_testlib.run('verify', path, '--quiet')
    self.assertEqual(status, 1, out)
    self.assertIn('DAMAGE', out)
    self.assertEqual(cli_testlib.snapshot(path), before)

  def test_existing_output_is_refused(self):
    dst = os.path.join(self.tmp, 'dst')
    os.mkdir(dst)
    with open(os.path.join(dst, 'keep.txt'), 'w') as f:
      f.write('mine')
    before = cli_testlib.snapshot(dst)
    for command in ('merge', 'split', 'filter'):
      argv = _argv(command, self.source, self.out)
      argv[argv.index('-o') + 1] = dst
      status, _, err = cli_testlib.run(*argv)
      self.assertEqual(status, 2, command)
      self.assertIn('not empty', err)
      self.assertEqual(cli_testlib.snapshot(dst), before)

  def test_read_only_directories(self):
    """Reading a read-only dataset works; writing into a read-only place is refused."""
    if os.geteuid() == 0 and not shutil.which('setpriv'):
      self.skipTest('running as root without setpriv: cannot make a directory read-only')
    source = os.path.join(self.tmp, 'source')
    shutil.copytree(self.source, source)
    unindexed = os.path.join(self.tmp, 'unindexed')  # Something for recover to rewrite.
    shutil.copytree(self.source, unindexed)
    for shard in os.listdir(unindexed):
      if os.path.isdir(os.path.join(unindexed, shard)):
        os.remove(os.path.join(unindexed, shard, 'step_offsets.riegeli'))
    locked_out = os.path.join(self.tmp, 'locked_out')
    os.mkdir(locked_out)
    writable_out = os.path.join(self.tmp, 'writable_out')
    os.mkdir(writable_out)
    runs = {}
    for command in _RUNNABLE:
      data_dir = unindexed if command == 'recover' else source
      runs[f'read {command}'] = _argv(command, data_dir, writable_out)
      if command in _WRITING:
        runs[f'write {command}'] = _argv(command, source, locked_out)
    for path in (source, unindexed, locked_out):
      for root, dirs, files in os.walk(path):
        for name in dirs + files + ['.']:
          full = os.path.join(root, name)
          os.chmod(full, os.stat(full).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = {p: cli_testlib.snapshot(p) for p in (source, unindexed, locked_out)}
    script = (
      'import json, sys\nfrom envlogger.tools import cli_testlib\n'
      'runs = json.loads(sys.argv[1])\n'
      'print(json.dumps({k: cli_testlib.run(*v) for k, v in runs.items()}))\n'
    )
    prefix = []
    if os.geteuid() == 0:  # Root ignores permission bits unless it drops these.
      prefix = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search,-fowner', '--']
    try:
      result = subprocess.run(
        prefix + [sys.executable, '-c', script, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=300,
      )
      self.assertEqual(result.returncode, 0, result.stderr)
      found = json.loads(result.stdout)
      for name, (status, out, err) in found.items():
        command = name.split()[1]
        if name.startswith('write') or command == 'recover':
          self.assertEqual(status, 2, f'{name}: {out} {err}')
          self.assertRegex(err, r'not writable|Permission denied|cannot', name)
        else:
          self.assertEqual(status, 0, f'{name}: {out} {err}')
      for path, snapshot in before.items():
        self.assertEqual(cli_testlib.snapshot(path), snapshot, path)
    finally:
      for path in (source, unindexed, locked_out):
        for root, dirs, files in os.walk(path):
          for name in dirs + files + ['.']:
            full = os.path.join(root, name)
            os.chmod(full, os.stat(full).st_mode | stat.S_IWUSR)

  def test_every_module_registers_its_subcommand(self):
    parser = cli.build_parser()
    choices = parser._subparsers._group_actions[0].choices  # pylint: disable=protected-access
    self.assertContainsSubset(_LISTED, choices)


class RootTest(absltest.TestCase):
  """The reading subcommands on a root (one dataset per writer), through envlogger.Reader."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = os.path.join(cli_testlib.class_temp_dir(cls), 'root')
    cli_testlib.record_catch(os.path.join(cls.root, 'w1'), num_episodes=5, seed=1)
    cli_testlib.record_catch(os.path.join(cls.root, 'w0'), num_episodes=4, seed=2)
    # Expected values from each writer's dataset read on its own, in writer-name order.
    cls.returns, cls.first_steps = [], []
    for name in ('w0', 'w1'):
      with envlogger.Reader(os.path.join(cls.root, name)) as reader:
        for episode in reader.episodes:
          cls.returns.append(sum(s.timestep.reward for s in episode[1:]))
          cls.first_steps.append(episode[0].custom_data['step'])

  def test_info_stats_show_plot(self):
    status, out, err = cli_testlib.run('info', self.root, '--json')
    self.assertEqual(status, 0, err)
    info = json.loads(out)
    self.assertEqual(
      (info['num_datasets'], info['num_shards'], info['num_episodes'], info['num_steps']),
      (2, 2, 9, 90),
    )
    self.assertEqual(info['metadata'], {'agent': 'random', 'seed': 2})  # w0's, first by name.
    self.assertEqual(
      info['time_span']['last_step_timestamp'], cli_testlib.START_TIME + 4.9
    )  # w1's 50th step.
    status, out, err = cli_testlib.run('stats', os.path.join(self.root, 'w*'), '--json', '-q')
    self.assertEqual(status, 0, err)
    stats = json.loads(out)
    self.assertEqual(stats['returns'], self.returns)
    status, out, err = cli_testlib.run('show', self.root, '--episode', '5', '--steps', '0:1')
    self.assertEqual(status, 0, err)
    self.assertIn(f'step: {self.first_steps[5]},', out)  # w1's second episode.
    png = os.path.join(cli_testlib.temp_dir(self), 'p.png')
    status, out, err = cli_testlib.run('plot', self.root, '-o', png)
    if 'plot' in _WITHOUT_EXTRA:  # The development container: plot names its extra.
      self.assertEqual(status, 2, err)
      self.assertIn('envlogger[viz]', err)
      self.assertFalse(os.path.exists(png))
    else:
      self.assertEqual(status, 0, err)
      self.assertIn('9 episodes', out)


if __name__ == '__main__':
  absltest.main()
