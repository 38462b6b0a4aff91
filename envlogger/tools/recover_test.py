"""Tests of `envlogger verify` / `envlogger recover` on damaged datasets.

Damaged datasets are copies (in a temporary directory) of upstream's
fixtures, whose content upstream's own reader decoded into *.expected.pkl,
and of datasets written by our EnvLogger. What a recovered dataset must hold
is derived from that independent content: every readable step, in order, and
no episode mixing steps of two recorded episodes.
"""

import glob
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized

import envlogger
from envlogger import riegeli
from envlogger.backends import schedulers
from envlogger.testing import catch_env
from envlogger.testing import compare
from envlogger.testing import damage_harness
from envlogger.tools import recover
from envlogger.tools import shard_scan
from envlogger.tools import verify

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'testdata', 'upstream-1.3')
_CLEAN = (
  'catch_default',
  'all_types',
  'multishard',
  'flushed_often',
  'single_step',
  'empty',
  'images',
  'catch_options_uncompressed',
  'catch_options_transpose_snappy_chunk16k',
)


def _expected(name):
  with open(os.path.join(_FIXTURES, name + '.expected.pkl'), 'rb') as f:
    return pickle.load(f)


def _episode_of_step(expected):
  """Maps a global step index of a fixture to its episode number."""
  owner = {}
  for e, (start, n) in enumerate(expected['episodes']):
    for i in range(start, start + n):
      owner[i] = e
  return owner


def _chunk_begins(path):
  """Begins of the record-bearing chunks of a Riegeli file (from positions)."""
  scan = shard_scan.scan_file(path)
  begins, previous = [], None
  for p in scan.positions:
    if previous is None or p != previous + 1:
      begins.append(p)
    previous = p
  return begins


def _read_all(data_dir):
  with envlogger.Reader(data_dir) as reader:
    steps = [tuple(s) for s in reader.steps]
    episodes = [[tuple(s) for s in ep] for ep in reader.episodes]
    metadata = list(reader.episode_metadata())
    return steps, episodes, metadata, reader.metadata()


class RecoverTest(parameterized.TestCase):
  def tmp(self):
    d = tempfile.TemporaryDirectory()
    self.addCleanup(d.cleanup)
    return d.name

  def copy_fixture(self, name):
    dest = os.path.join(self.tmp(), name)
    shutil.copytree(os.path.join(_FIXTURES, name), dest)
    return dest

  def match_steps(self, actual_steps, expected):
    """Index in the fixture of each recovered step (they must be in order)."""
    matched, j = [], 0
    for step in actual_steps:
      while j < expected['num_steps'] and compare.differences(step, expected['steps'][j]):
        j += 1
      self.assertLess(j, expected['num_steps'], f'step {len(matched)} is not a recorded step')
      matched.append(j)
      j += 1
    return matched

  def assert_no_merged_episodes(self, episodes, steps, matched, expected):
    owner = _episode_of_step(expected)
    flat = 0
    for ep in episodes:
      owners = {owner[matched[flat + k]] for k in range(len(ep))}
      self.assertLen(owners, 1, f'an episode mixes steps of recorded episodes {owners}')
      flat += len(ep)
    self.assertEqual(flat, len(steps))

  @parameterized.parameters(*_CLEAN)
  def test_clean_fixture_verifies_and_recover_changes_nothing(self, name):
    data_dir = os.path.join(_FIXTURES, name)
    report = verify.verify(data_dir)
    self.assertTrue(report.ok, report.lines())
    self.assertEqual(report.num_steps, _expected(name)['num_steps'])
    dry = recover.recover(data_dir, dry_run=True)
    self.assertFalse(any(s.index_changed for s in dry.shards), dry.lines())
    self.assertEmpty(dry.written)

  @parameterized.parameters('catch_default', 'multishard', 'all_types', 'flushed_often')
  def test_missing_index_files_are_rebuilt_exactly(self, name):
    data_dir = self.copy_fixture(name)
    for path in glob.glob(os.path.join(data_dir, '*', shard_scan.STEP_OFFSETS)) + glob.glob(
      os.path.join(data_dir, '*', shard_scan.EPISODE_INDEX)
    ):
      os.remove(path)
    self.assertFalse(verify.verify(data_dir).ok)
    report = recover.recover(data_dir)
    self.assertNotEmpty(report.written)
    self.assertTrue(verify.verify(data_dir).ok, verify.verify(data_dir).lines())
    expected = _expected(name)
    steps, episodes, _, metadata = _read_all(data_dir)
    self.assertEqual(compare.differences(steps, expected['steps']), [])
    self.assertEqual([len(e) for e in episodes], [n for _, n in expected['episodes']])
    self.assertEqual(compare.differences(metadata, expected['metadata']), [])

  def test_episode_metadata_is_reattributed_when_unambiguous(self):
    # catch_default: every episode has metadata, so the order is unambiguous.
    data_dir = self.copy_fixture('catch_default')
    for path in glob.glob(os.path.join(data_dir, '*', shard_scan.EPISODE_INDEX)):
      os.remove(path)
    recover.recover(data_dir)
    _, _, episode_metadata, _ = _read_all(data_dir)
    expected = _expected('catch_default')['episode_metadata']
    self.assertEqual(compare.differences(episode_metadata, expected), [])

  def test_ambiguous_episode_metadata_is_not_attributed(self):
    # multishard: some episodes have no metadata record; without the index
    # nothing says which, so recover must not guess.
    data_dir = self.copy_fixture('multishard')
    for path in glob.glob(os.path.join(data_dir, '*', shard_scan.EPISODE_INDEX)):
      os.remove(path)
    report = recover.recover(data_dir)
    self.assertGreater(sum(s.unattributed_metadata for s in report.shards), 0)
    _, _, episode_metadata, _ = _read_all(data_dir)
    expected = _expected('multishard')['episode_metadata']
    for got, want in zip(episode_metadata, expected):
      if got is not None:
        self.assertEqual(compare.differences(got, want), [])

  @parameterized.parameters(0, 5, 11, 22)
  def test_corrupted_steps_chunk_loses_only_its_steps(self, chunk):
    name = 'flushed_often'  # 23 steps chunks.
    data_dir = self.copy_fixture(name)
    (steps_path,) = glob.glob(os.path.join(data_dir, '*', shard_scan.STEPS))
    begins = _chunk_begins(steps_path)
    ends = begins[1:] + [os.path.getsize(steps_path)]
    damage_harness.flip_byte(
      steps_path,
      begins[chunk] + 40 + (ends[chunk] - begins[chunk] - 40) // 2,  # Chunk data.
      mask=0x55,
    )
    lost_in_chunk = len(
      [
        p
        for p in shard_scan.scan_file(
          os.path.join(
            _FIXTURES, name, os.path.basename(os.path.dirname(steps_path)), shard_scan.STEPS
          )
        ).positions
        if begins[chunk] <= p < ends[chunk]
      ]
    )

    report = verify.verify(data_dir)
    self.assertFalse(report.ok)
    self.assertTrue(any('hash mismatch' in d for d in report.damage), report.lines())
    self.assertEqual(
      subprocess.run(
        [sys.executable, '-m', 'envlogger.tools.cli', 'verify', data_dir], capture_output=True
      ).returncode,
      1,
    )

    rec = recover.recover(data_dir)
    self.assertEqual(rec.shards[0].lost_steps, lost_in_chunk)
    expected = _expected(name)
    steps, episodes, _, _ = _read_all(data_dir)
    self.assertLen(steps, expected['num_steps'] - lost_in_chunk)
    matched = self.match_steps(steps, expected)
    self.assert_no_merged_episodes(episodes, steps, matched, expected)
    # steps.riegeli was rewritten without the damaged chunk (kept as .bak).
    self.assertTrue(verify.verify(data_dir).ok, verify.verify(data_dir).lines())
    self.assertTrue(os.path.exists(steps_path + '.bak'))

  @parameterized.parameters(0.3, 0.5, 0.77, 0.99)
  def test_killed_writer_truncated_steps_and_stale_index(self, fraction):
    """Our writer, as a kill leaves it: steps cut mid-chunk, index of an early flush."""
    data_dir = self.tmp()
    counter = {'episode': -1, 't': 0}

    def step_fn(timestep, unused_action, unused_env):
      if timestep.first():
        counter['episode'] += 1
        counter['t'] = 0
      counter['t'] += 1
      return (counter['episode'], counter['t'] - 1)

    with envlogger.EnvLogger(
      catch_env.Catch(seed=3),
      data_directory=data_dir,
      step_fn=step_fn,
      flush_scheduler=schedulers.NStepScheduler(23),
      writer_options='transpose,zstd,chunk_size:4K',
    ) as env:
      for _ in range(30):
        timestep = env.reset()
        while not timestep.last():
          timestep = env.step(1)
    (shard,) = shard_scan.shard_dirs(data_dir)
    for name, keep in (
      (shard_scan.STEPS, fraction),
      (shard_scan.STEP_OFFSETS, fraction / 2),
      (shard_scan.EPISODE_INDEX, fraction / 3),
    ):
      path = os.path.join(shard, name)
      with open(path, 'r+b') as f:
        f.truncate(int(os.path.getsize(path) * keep))
    survivors = len(shard_scan.scan_file(os.path.join(shard, shard_scan.STEPS)).positions)
    self.assertFalse(verify.verify(data_dir).ok)

    report = recover.recover(data_dir)
    self.assertGreater(report.shards[0].unindexed_steps, 0)
    self.assertTrue(verify.verify(data_dir).ok, verify.verify(data_dir).lines())
    steps, episodes, _, _ = _read_all(data_dir)
    # Every step in a complete chunk is back, in recording order.
    self.assertLen(steps, survivors)
    ids = [step[2] for step in steps]
    self.assertEqual(ids, [(e, t) for e in range(30) for t in range(10)][:survivors])
    # Episodes are exactly the recorded ones; the cut one is incomplete.
    for ep in episodes:
      self.assertLen({step[2][0] for step in ep}, 1)
      self.assertEqual([step[2][1] for step in ep], list(range(len(ep))))
    self.assertEqual(len(episodes), ids[-1][0] + 1)
    if ids[-1][1] != 9:
      self.assertEqual(report.shards[0].incomplete_episodes, [len(episodes) - 1])

  def test_unreadable_dataset_metadata_is_replaced_by_an_empty_record(self):
    data_dir = self.copy_fixture('catch_default')
    path = os.path.join(data_dir, shard_scan.METADATA)
    with open(path, 'r+b') as f:
      f.seek(100)
      byte = f.read(1)
      f.seek(100)
      f.write(bytes([byte[0] ^ 1]))
    self.assertFalse(verify.verify(data_dir).ok)
    report = recover.recover(data_dir)
    self.assertIn('metadata', report.metadata_problem)
    steps, _, _, metadata = _read_all(data_dir)
    self.assertEqual(metadata, {})
    self.assertEqual(compare.differences(steps, _expected('catch_default')['steps']), [])
    # The damaged original is kept.
    self.assertTrue(os.path.exists(path + '.bak'))

  @parameterized.named_parameters(
    ('unindexed', 'catch_default', None),
    ('unindexed_multishard', 'multishard', None),
    ('unindexed_all_types', 'all_types', None),
    ('unindexed_single_step', 'single_step', None),
    ('damaged_first_chunk', 'flushed_often', 0),
    ('damaged_middle_chunk', 'flushed_often', 11),
    ('damaged_last_chunk', 'flushed_often', 22),
  )
  def test_recover_and_the_reader_agree_on_episode_boundaries(self, name, damaged_chunk):
    """recover and the C++ reader (which recovers unindexed steps itself) find the same episodes."""
    data_dir = self.copy_fixture(name)
    shards = shard_scan.shard_dirs(data_dir)
    for shard in shards:  # As a writer killed before its first flush leaves them.
      for index_file in (shard_scan.STEP_OFFSETS, shard_scan.EPISODE_INDEX):
        with riegeli.RecordWriter(os.path.join(shard, index_file)):
          pass
    if damaged_chunk is not None:
      steps_path = os.path.join(shards[0], shard_scan.STEPS)
      begins = _chunk_begins(steps_path)
      ends = begins[1:] + [os.path.getsize(steps_path)]
      begin, end = begins[damaged_chunk], ends[damaged_chunk]
      damage_harness.flip_byte(steps_path, begin + 40 + (end - begin - 40) // 2, mask=0x55)

    tool_lengths = []
    for shard in shards:
      index = recover.rebuild_shard_index(shard).index
      bounds = index.episode_starts + [len(index.step_positions)]
      tool_lengths.extend(b - a for a, b in zip(bounds, bounds[1:]))
    with envlogger.Reader(data_dir) as reader:
      reader_lengths = [len(list(episode)) for episode in reader.episodes]
    self.assertEqual(tool_lengths, reader_lengths)
    expected = [n for _, n in _expected(name)['episodes']]
    if damaged_chunk is None:
      self.assertEqual(tool_lengths, expected)
    else:
      self.assertLess(sum(tool_lengths), sum(expected))  # The damaged chunk's steps are lost.

  def test_originals_are_kept_and_fixture_is_untouched(self):
    data_dir = self.copy_fixture('flushed_often')
    (shard,) = shard_scan.shard_dirs(data_dir)
    os.remove(os.path.join(shard, shard_scan.EPISODE_INDEX))  # Needs repair.
    offsets = os.path.join(shard, shard_scan.STEP_OFFSETS)
    with open(offsets, 'rb') as f:
      original = f.read()
    recover.recover(data_dir)
    with open(offsets + '.bak', 'rb') as f:
      self.assertEqual(f.read(), original)
    self.assertEqual(sorted(glob.glob(os.path.join(shard, '*.tmp'))), [])

  @parameterized.parameters(*_CLEAN, 'ours')
  def test_healthy_dataset_is_left_untouched(self, name):
    if name == 'ours':
      data_dir = os.path.join(self.tmp(), name)
      with envlogger.EnvLogger(
        catch_env.Catch(seed=5),
        data_directory=data_dir,
        episode_fn=lambda ts, a, env: ts.last() or None,
      ) as env:
        for _ in range(4):
          timestep = env.reset()
          while not timestep.last():
            timestep = env.step(1)
    else:
      data_dir = self.copy_fixture(name)

    def files():
      contents = {}
      for directory, _, names in os.walk(data_dir):
        for n in names:
          with open(os.path.join(directory, n), 'rb') as f:
            contents[os.path.relpath(os.path.join(directory, n), data_dir)] = f.read()
      return contents

    before = files()
    for _ in range(2):  # A second run used to leave .bak1 files.
      report = recover.recover(data_dir)
      self.assertEqual(report.written, [])
      self.assertTrue(all(s.intact for s in report.shards), report.lines())
      self.assertIn(f'{data_dir}: healthy, left untouched', report.lines())
      self.assertEqual(files(), before)

  def test_a_damaged_shard_is_not_intact(self):
    data_dir = self.copy_fixture('multishard')
    shards = shard_scan.shard_dirs(data_dir)
    os.remove(os.path.join(shards[0], shard_scan.STEP_OFFSETS))
    report = recover.recover(data_dir)
    self.assertEqual([s.intact for s in report.shards], [False] + [True] * (len(shards) - 1))
    self.assertNotIn(f'{data_dir}: healthy, left untouched', report.lines())
    self.assertEqual({os.path.dirname(p) for p in report.written}, {shards[0]})

  def test_cli(self):
    data_dir = self.copy_fixture('catch_default')
    for path in glob.glob(os.path.join(data_dir, '*', shard_scan.STEP_OFFSETS)):
      os.remove(path)

    def cli(*args):
      return subprocess.run(
        [sys.executable, '-m', 'envlogger.tools.cli', *args], capture_output=True, text=True
      )

    result = cli('verify', data_dir)
    self.assertEqual(result.returncode, 1, result.stdout)
    self.assertIn('200 steps in steps.riegeli are not indexed', result.stdout)
    result = cli('recover', '--dry_run', data_dir)
    self.assertEqual(result.returncode, 0)
    self.assertIn('dry run', result.stdout)
    self.assertEqual(cli('verify', data_dir).returncode, 1)
    result = cli('recover', data_dir)
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn('rewrote', result.stdout)
    self.assertEqual(cli('verify', data_dir).returncode, 0)
    result = cli('recover', data_dir)  # Now healthy.
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn('healthy, left untouched', result.stdout)
    self.assertNotIn('rewrote', result.stdout)
    result = cli('verify', os.path.join(data_dir, 'nope'))
    self.assertEqual(result.returncode, 2)
    self.assertIn('No such dataset directory', result.stderr)
    self.assertEqual(cli('frobnicate', data_dir).returncode, 2)


if __name__ == '__main__':
  absltest.main()
