"""Hostile input: every public entry point fails with a clear exception.

Wrong types, wrong shapes, huge or empty values, paths that are not
directories, read-only directories, a full disk (a size-limited file, via
RLIMIT_FSIZE in a child process) and datasets being written concurrently.
Each case checks the exception type, that the message names the problem
(and the path where there is one), and that what was written before stays
readable. The README section "Bad input and what it gives" tabulates the messages.
"""

import os
import subprocess
import sys
import tempfile
import threading

from absl.testing import absltest
import dm_env
import numpy as np

import envlogger
from envlogger import riegeli
from envlogger.backends import schedulers
from envlogger.testing import catch_env
from envlogger.tools import recover
from envlogger.tools import shard_scan
from envlogger.tools import verify


class _FixedObservationEnv(catch_env.Catch):
  """Catch whose observations are replaced by a fixed value."""

  def __init__(self, observation):
    super().__init__()
    self._observation = observation

  def reset(self):
    return dm_env.restart(self._observation)

  def step(self, action):
    return dm_env.transition(0.0, self._observation)


def _log_catch(data_dir, episodes=3, **kwargs):
  with envlogger.EnvLogger(catch_env.Catch(), data_directory=data_dir, **kwargs) as env:
    for _ in range(episodes):
      timestep = env.reset()
      while not timestep.last():
        timestep = env.step(1)


class HostileInputTest(absltest.TestCase):
  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.tmp = tmp.name

  def path(self, *parts):
    return os.path.join(self.tmp, *parts)

  # --- Paths ---------------------------------------------------------------

  def test_reader_paths(self):
    with self.assertRaisesRegex(RuntimeError, 'NOT_FOUND: Data directory .*missing does not exist'):
      envlogger.Reader(self.path('missing'))
    a_file = self.path('a_file')
    with open(a_file, 'w') as f:
      f.write('not a dataset')
    with self.assertRaisesRegex(RuntimeError, 'No metadata.riegeli in .*a_file: not an envlogger'):
      envlogger.Reader(a_file)
    os.mkdir(self.path('empty'))
    with self.assertRaisesRegex(RuntimeError, 'No metadata.riegeli in .*empty'):
      envlogger.Reader(self.path('empty'))

  def test_writer_paths_and_argument_types(self):
    a_file = self.path('a_file')
    with open(a_file, 'w') as f:
      f.write('x')
    with self.assertRaisesRegex(RuntimeError, 'Not a directory: .*a_file'):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=a_file)
    with self.assertRaisesRegex(TypeError, 'data_directory must be a str or os.PathLike, not int'):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=5)
    with self.assertRaisesRegex(TypeError, 'max_episodes_per_file must be an int, not str'):
      envlogger.EnvLogger(
        catch_env.Catch(), data_directory=self.path('d'), max_episodes_per_file='3'
      )
    with self.assertRaisesRegex(ValueError, 'max_episodes_per_file=.* does not fit in 64 bits'):
      envlogger.EnvLogger(
        catch_env.Catch(), data_directory=self.path('d'), max_episodes_per_file=2**70
      )
    with self.assertRaisesRegex(
      RuntimeError, 'INVALID_ARGUMENT: Invalid writer_options "bogus".*unknown option'
    ):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=self.path('d'), writer_options='bogus')
    with self.assertRaisesRegex(TypeError, 'metadata must be a dict, not int'):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=self.path('d'), metadata=5)
    with self.assertRaisesRegex(TypeError, r"Unsupported type object.* at value\['a'\]"):
      envlogger.EnvLogger(
        catch_env.Catch(), data_directory=self.path('d'), metadata={'a': object()}
      )

  def test_tools_paths(self):
    with self.assertRaisesRegex(FileNotFoundError, 'No such dataset directory: .*missing'):
      verify.verify(self.path('missing'))
    a_file = self.path('a_file')
    with open(a_file, 'w') as f:
      f.write('x')
    with self.assertRaisesRegex(NotADirectoryError, 'Not a dataset directory: .*a_file'):
      recover.recover(a_file)
    os.mkdir(self.path('empty'))
    report = verify.verify(self.path('empty'))
    self.assertFalse(report.ok)
    self.assertIn('metadata.riegeli is missing', '\n'.join(report.damage))

  # --- Values --------------------------------------------------------------

  def test_unencodable_observations_fail_the_step_and_keep_earlier_steps(self):
    cases = {
      'float16': (np.zeros(3, np.float16), r'Unsupported `array.dtype`: float16'),
      'object array': (np.array([object()]), r'Unsupported `array.dtype`: object'),
      'ragged list': (
        [np.zeros(2), [1, 2, 3]],
        r'We assume list is homogeneous.*element \[1\] is a list',
      ),
      'function': (lambda: 0, r'Unsupported type function'),
    }
    for label, (bad, message) in cases.items():
      with self.subTest(label):
        data_dir = self.path(label.replace(' ', '_'))
        good = np.arange(4, dtype=np.float32)
        env = _FixedObservationEnv(good)
        with envlogger.EnvLogger(env, data_directory=data_dir) as logger:
          logger.reset()
          logger.step(0)
          env._observation = bad
          with self.assertRaisesRegex(TypeError, 'Cannot record timestep.observation: ' + message):
            logger.step(0)
          env._observation = good
          logger.step(0)
        with envlogger.Reader(data_dir) as reader:
          self.assertLen(reader.steps, 3)  # FIRST, MID, and the MID after the failure.
          np.testing.assert_array_equal(reader.steps[2].timestep.observation, good)

  def test_huge_and_empty_values(self):
    data_dir = self.path('huge')
    huge = np.arange(40 << 20, dtype=np.uint8)  # 40 MiB, several Riegeli chunks' worth.
    values = [huge, np.zeros((0, 3), np.float32), [], {}, '', b'', 2**4000]
    steps = iter(values)
    with envlogger.EnvLogger(
      _FixedObservationEnv(huge),
      data_directory=data_dir,
      step_fn=lambda unused_ts, unused_a, unused_env: next(steps),
    ) as env:
      env.reset()
      for _ in range(len(values) - 1):
        env.step(0)
    with envlogger.Reader(data_dir) as reader:
      self.assertLen(reader.steps, len(values))
      np.testing.assert_array_equal(reader.steps[0].timestep.observation, huge)
      custom = [step.custom_data for step in reader.steps]
    # Upstream's codec: empty containers and zero-size arrays come back as None.
    np.testing.assert_array_equal(custom[0], huge)
    self.assertIsNone(custom[1])
    self.assertIsNone(custom[2])
    self.assertIsNone(custom[3])
    self.assertEqual(custom[4], '')
    self.assertEqual(custom[5], b'')
    self.assertEqual(custom[6], 2**4000)

  def test_reader_indices(self):
    data_dir = self.path('d')
    _log_catch(data_dir, episodes=2)
    with envlogger.Reader(data_dir) as reader:
      with self.assertRaisesRegex(TypeError, 'indices must be integers or slices, not str'):
        reader.steps['a']
      with self.assertRaisesRegex(TypeError, 'indices must be integers or slices, not float'):
        reader.episodes[1.5]
      with self.assertRaisesRegex(
        IndexError, r'`index`==100000000000000000000 is out of the range \[-20, 19\]'
      ):
        reader.steps[10**20]
      with self.assertRaisesRegex(IndexError, r'out of the range \[-10, 9\]'):
        reader.episodes[0][10]
      self.assertEqual(reader.steps[np.int64(3)].timestep.step_type, dm_env.StepType.MID)

  def test_use_after_close(self):
    env = envlogger.EnvLogger(catch_env.Catch(), data_directory=self.path('d'))
    env.reset()
    env.close()
    with self.assertRaisesRegex(RuntimeError, 'Cannot record a step: the writer of .*d is closed'):
      env.step(1)
    with envlogger.Reader(self.path('d')) as reader:
      self.assertLen(reader.steps, 1)

  def test_riegeli_garbage_and_bad_options(self):
    garbage = self.path('garbage.riegeli')
    with open(garbage, 'wb') as f:
      f.write(np.random.default_rng(0).bytes(1000))
    with self.assertRaisesRegex(riegeli.DataLossError, 'corrupted block header .* at position 0'):
      riegeli.RecordReader(garbage).read_record()
    with self.assertRaisesRegex(riegeli.InvalidArgumentError, 'Zstd level must be an integer'):
      riegeli.RecordWriter(self.path('x.riegeli'), options='zstd:99')
    with self.assertRaisesRegex(riegeli.FailedPreconditionError, 'Is a directory'):
      riegeli.RecordWriter(self.tmp)

  # --- The file system -----------------------------------------------------

  def read_only_dir(self, prepare=None):
    """A directory writes to which fail: a read-only tmpfs as root, else mode 0555.

    It holds a Catch dataset, `dataset`, given to `prepare` (if any) while still writable.
    """
    path = self.path('ro')
    os.mkdir(path)
    if os.geteuid() == 0:  # Root ignores permissions; a read-only mount does not.
      mounted = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path],
        capture_output=True,
        text=True,
        check=False,
      )
      if mounted.returncode != 0:  # E.g. root inside a container without CAP_SYS_ADMIN.
        self.skipTest(
          'running as root without permission to mount a read-only '
          f'file system: {mounted.stderr.strip()}'
        )
      self.addCleanup(subprocess.run, ['umount', '-l', path], check=False)
      _log_catch(os.path.join(path, 'dataset'), episodes=2)
      if prepare:
        prepare(os.path.join(path, 'dataset'))
      subprocess.run(['mount', '-o', 'remount,ro', path], check=True)
    else:
      _log_catch(os.path.join(path, 'dataset'), episodes=2)
      if prepare:
        prepare(os.path.join(path, 'dataset'))
      for root, dirs, _ in os.walk(path):
        for d in dirs:
          os.chmod(os.path.join(root, d), 0o555)
      os.chmod(path, 0o555)
    return path

  def test_read_only_directory(self):
    path = self.read_only_dir()
    with self.assertRaisesRegex(
      RuntimeError,
      'PERMISSION_DENIED: Creating directory '
      + path
      + '/new failed: (Read-only file system|Permission denied)',
    ):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=os.path.join(path, 'new'))
    with self.assertRaisesRegex(RuntimeError, '(Read-only file system|Permission denied)'):
      envlogger.EnvLogger(catch_env.Catch(), data_directory=os.path.join(path, 'dataset'))
    dataset = os.path.join(path, 'dataset')
    # Healthy, so recover writes nothing (it would fail to) and says so.
    report = recover.recover(dataset)
    self.assertEqual(report.written, [])
    self.assertIn(f'{dataset}: healthy, left untouched', report.lines())
    self.assertTrue(verify.verify(dataset).ok)
    with envlogger.Reader(dataset) as reader:
      self.assertLen(reader.steps, 20)

  def test_recover_on_a_read_only_damaged_dataset(self):
    def drop_index(dataset):
      for shard in shard_scan.shard_dirs(dataset):
        os.remove(os.path.join(shard, shard_scan.EPISODE_INDEX))

    dataset = os.path.join(self.read_only_dir(drop_index), 'dataset')
    before = sorted(os.listdir(shard_scan.shard_dirs(dataset)[0]))
    with self.assertRaisesRegex(OSError, '(Read-only file system|Permission denied)'):
      recover.recover(dataset)
    self.assertEqual(sorted(os.listdir(shard_scan.shard_dirs(dataset)[0])), before)

  def test_full_disk(self):
    """A size-limited file (RLIMIT_FSIZE) fails the writer with a clear error."""
    data_dir = self.path('full')
    child = (
      'import resource, signal, sys\n'
      'signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n'
      'resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))\n'
      'import envlogger\n'
      'from envlogger.backends import schedulers\n'
      'from envlogger.testing import catch_env\n'
      'env = envlogger.EnvLogger(catch_env.Catch(), data_directory=sys.argv[1],\n'
      '                          writer_options="uncompressed",\n'
      '                          flush_scheduler=schedulers.NStepScheduler(10))\n'
      'n = 0\n'
      'try:\n'
      '  while True:\n'
      '    ts = env.reset(); n += 1\n'
      '    while not ts.last():\n'
      '      ts = env.step(1); n += 1\n'
      'except RuntimeError as e:\n'
      '  print(n, e, sep="\\n")\n'
      'try:\n'
      '  env.close()\n'
      'except RuntimeError as e:\n'
      '  print("close:", e)\n'
    )
    result = subprocess.run(
      [sys.executable, '-c', child, data_dir],
      capture_output=True,
      text=True,
      timeout=120,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    self.assertEqual(result.returncode, 0, result.stderr)
    lines = result.stdout.splitlines()
    handed = int(lines[0])
    self.assertRegex(
      lines[1],
      'RESOURCE_EXHAUSTED: Writing Riegeli/records file '
      + data_dir
      + r'/\w+/steps.riegeli at \d+: .*File too large',
    )
    self.assertTrue(lines[2].startswith('close:'), lines)
    with envlogger.Reader(data_dir) as reader:
      readable = len(reader.steps)
      self.assertGreater(readable, 0)
      self.assertLessEqual(readable, handed)
      ids = [step.timestep.step_type for step in reader.steps]
    self.assertEqual(ids[0], dm_env.StepType.FIRST)

  def test_reading_a_dataset_being_written(self):
    data_dir = self.path('live')
    os.mkdir(data_dir)
    done = threading.Event()
    errors = []

    def write():
      try:
        _log_catch(data_dir, episodes=300, flush_scheduler=schedulers.NStepScheduler(37))
      except Exception as e:  # pylint: disable=broad-except
        errors.append(e)
      finally:
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = 0
    while not done.is_set() or seen == 0:
      if not os.path.exists(os.path.join(data_dir, 'metadata.riegeli')):
        continue
      try:
        reader = envlogger.Reader(data_dir)
      except RuntimeError as e:
        # The writer has created metadata.riegeli but not written it yet.
        self.assertEqual(seen, 0)
        self.assertRegex(str(e), 'NOT_FOUND: No record in .*metadata.riegeli')
        continue
      with reader:
        steps = [step.timestep.step_type for step in reader.steps]
        episodes = [len(e) for e in reader.episodes]
      self.assertGreaterEqual(len(steps), seen)  # Never goes back.
      seen = len(steps)
      self.assertLessEqual(sum(episodes), len(steps))
      verify.verify(data_dir)  # Must not raise while the files grow.
    writer.join()
    self.assertEqual(errors, [])
    with envlogger.Reader(data_dir) as reader:
      self.assertLen(reader.steps, 3000)
      self.assertLen(reader.episodes, 300)


if __name__ == '__main__':
  absltest.main()
