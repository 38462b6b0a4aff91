"""Reading a dataset with a damaged or truncated chunk in steps.riegeli.

A dataset of small chunks is written, then a copy is damaged: iterating the
reader yields every step except those of the hit chunk (compared with the
clean dataset's values), logs a warning, and lists the unreadable byte range
in `skipped_regions()`; random access to a lost step raises naming the file
and the position, random access elsewhere still works.
"""

import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np

import envlogger
from envlogger.backends import backend_reader
from envlogger.backends import backend_type
from envlogger.backends import in_memory_backend
from envlogger.testing import catch_env
from envlogger.testing import compare
from envlogger.testing import damage_harness
from envlogger.tools import shard_scan


def _write_dataset(path: str) -> None:
  env = catch_env.Catch(seed=3)
  rng = np.random.default_rng(3)

  def episode_fn(timestep, unused_action, unused_env):
    return {'last': int(timestep.observation.sum())} if timestep.last() else None

  with envlogger.EnvLogger(
    env,
    data_directory=path,
    episode_fn=episode_fn,
    writer_options='transpose,brotli:6,chunk_size:2k',
  ) as logged:
    for _ in range(60):
      timestep = logged.reset()
      while not timestep.last():
        timestep = logged.step(int(rng.integers(3)))


class ReaderDamageTest(absltest.TestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.mkdtemp()
    cls.clean_path = os.path.join(cls._tmp, 'clean')
    _write_dataset(cls.clean_path)
    cls.clean = damage_harness.load_clean(cls.clean_path)
    [(cls.steps_rel, cls.chunks)] = cls.clean.step_chunks.items()
    assert len(cls.chunks) >= 5, cls.chunks

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls._tmp)
    super().tearDownClass()

  def _damaged_copy(self, rel: str, offset: int) -> str:
    path = os.path.join(tempfile.mkdtemp(dir=self._tmp), 'd')
    shutil.copytree(self.clean_path, path)
    damage_harness.flip_byte(os.path.join(path, rel), offset, mask=0x5A)
    return path

  def _assert_steps_equal(self, actual, expected_indices):
    self.assertLen(actual, len(expected_indices))
    for step, i in zip(actual, expected_indices):
      self.assertEqual(compare.differences(tuple(step), self.clean.steps[i]), [], i)

  def _check_middle_chunk_lost(self, path: str, offset: int) -> None:
    begin, end, lost = self.chunks[len(self.chunks) // 2]
    kept = [i for i in range(len(self.clean.steps)) if i not in set(lost)]
    steps_path = os.path.join(path, self.steps_rel)
    with envlogger.Reader(path) as reader:
      with self.assertLogs(level='WARNING') as logs:
        steps = list(reader.steps)
      self._assert_steps_equal(steps, kept)
      warnings = [r.getMessage() for r in logs.records if 'Skipping damaged data' in r.getMessage()]
      self.assertLen(warnings, 1)  # Once per region, not once per lost step.
      self.assertIn(steps_path, warnings[0])
      self.assertIn(f'{len(lost)} steps lost', warnings[0])

      [region] = reader.skipped_regions()
      self.assertIsInstance(region, backend_reader.SkippedRegion)
      self.assertEqual(region.path, steps_path)
      self.assertLessEqual(region.begin, offset)
      self.assertLess(offset, region.end)
      self.assertEqual((region.begin, region.end), (begin, end))
      self.assertEqual(region.steps, range(lost[0], lost[-1] + 1))
      self.assertNotEmpty(region.message)

      # Random access: the lost steps raise, naming file and position.
      for i in (lost[0], lost[-1]):
        with self.assertRaises(backend_reader.DamagedDataError) as raised:
          reader.steps[i]  # pylint: disable=pointless-statement
        message = str(raised.exception)
        self.assertIsInstance(raised.exception, RuntimeError)
        self.assertIn(steps_path, message)
        self.assertIn('position', message)
        self.assertIn('damaged chunk', message)
      # Other chunks, before and after, in any order.
      for i in (lost[-1] + 1, lost[0] - 1, 0, len(self.clean.steps) - 1, lost[-1] + 2):
        self._assert_steps_equal([reader.steps[i]], [i])
      self.assertLen(reader.skipped_regions(), 1)  # Still one region.

      # Episodes: their steps skip the lost ones too.
      from_episodes = [step for episode in reader.episodes for step in episode]
      self._assert_steps_equal(from_episodes, kept)
      # An episode that lost steps raises on indexing a lost step.
      episode = next(
        e for e, (start, n) in enumerate(self.clean.episodes) if start <= lost[0] < start + n
      )
      start = self.clean.episodes[episode][0]
      with self.assertRaises(backend_reader.DamagedDataError):
        reader.episodes[episode][lost[0] - start]  # pylint: disable=pointless-statement

      # A copy keeps its own list and warns again.
      copy = reader.copy()
      self.assertEqual(copy.skipped_regions(), [])
      with self.assertLogs(level='WARNING'):
        self.assertLen(list(copy.steps), len(kept))
      self.assertEqual(copy.skipped_regions(), reader.skipped_regions())
      copy.close()

  def test_flipped_byte_in_chunk_data_loses_only_that_chunk(self):
    begin, end, _ = self.chunks[len(self.chunks) // 2]
    offset = (begin + end) // 2
    self._check_middle_chunk_lost(self._damaged_copy(self.steps_rel, offset), offset)

  def test_flipped_byte_in_chunk_header_loses_only_that_chunk(self):
    begin, _, _ = self.chunks[len(self.chunks) // 2]
    offset = begin + 12  # data_size: hash mismatch of the chunk header.
    self._check_middle_chunk_lost(self._damaged_copy(self.steps_rel, offset), offset)

  def test_truncated_last_chunk(self):
    path = os.path.join(tempfile.mkdtemp(dir=self._tmp), 'd')
    shutil.copytree(self.clean_path, path)
    begin, end, lost = self.chunks[-1]
    cut = (begin + end) // 2
    steps_path = os.path.join(path, self.steps_rel)
    with open(steps_path, 'r+b') as f:
      f.truncate(cut)
    with envlogger.Reader(path) as reader:
      self.assertLen(reader.steps, len(self.clean.steps))  # The index lists them.
      with self.assertLogs(level='WARNING'):
        steps = list(reader.steps)
      self._assert_steps_equal(steps, range(lost[0]))
      [region] = reader.skipped_regions()
      self.assertEqual((region.path, region.begin, region.end), (steps_path, begin, cut))
      self.assertEqual(region.steps, range(lost[0], lost[-1] + 1))
      self.assertIn('incomplete chunk', region.message)
      with self.assertRaisesRegex(RuntimeError, f'position .* of {steps_path}'):
        reader.steps[-1]  # pylint: disable=pointless-statement
      self._assert_steps_equal([reader.steps[lost[0] - 1]], [lost[0] - 1])

  def test_damaged_episode_metadata_reads_as_none(self):
    rel = os.path.join(os.path.dirname(self.steps_rel), shard_scan.EPISODE_METADATA)
    scan = shard_scan.scan_file(os.path.join(self.clean_path, rel))
    self.assertGreater(len(set(p for p in scan.positions)), 1)
    # Damage the data of the chunk holding the first metadata record.
    offset = scan.positions[0] + 60
    path = self._damaged_copy(rel, offset)
    with envlogger.Reader(path) as reader:
      with self.assertLogs(level='WARNING'):
        metadata = list(reader.episode_metadata())
      self.assertLen(metadata, len(self.clean.episode_metadata))
      self.assertIsNone(metadata[0])
      kept = [i for i, m in enumerate(metadata) if m is not None]
      self.assertNotEmpty(kept)
      for i in kept:
        self.assertEqual(metadata[i], self.clean.episode_metadata[i])
      self.assertIsNone(reader.episode_metadata()[0])  # Indexing too.
      [region] = reader.skipped_regions()
      self.assertEqual(region.path, os.path.join(path, rel))
      self.assertLessEqual(region.begin, offset)
      self.assertLess(offset, region.end)
      self.assertEqual(region.steps, range(0))
      # The steps are unaffected.
      self._assert_steps_equal(list(reader.steps), range(len(self.clean.steps)))

  def test_intact_datasets_have_no_skipped_regions(self):
    with envlogger.Reader(self.clean_path) as reader:
      self.assertLen(list(reader.steps), len(self.clean.steps))
      self.assertEqual(reader.skipped_regions(), [])
    writers = []

    def factory(**kwargs):
      writers.append(in_memory_backend.InMemoryBackendWriter(**kwargs))
      return writers[-1]

    with envlogger.EnvLogger(catch_env.Catch(), backend=factory) as env:
      env.reset()
      env.step(0)
    with envlogger.Reader(writers[0], backend=backend_type.BackendType.IN_MEMORY) as reader:
      self.assertLen(list(reader.steps), 2)
      self.assertEqual(reader.skipped_regions(), [])


if __name__ == '__main__':
  absltest.main()
